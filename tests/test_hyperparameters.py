from hyperparameters import RECIPES


def test_seed_recipe_holds_the_original_values():
    seed = RECIPES['seed']
    assert (seed.train_epoch_size, seed.eval_epoch_size, seed.batch_size, seed.num_epoch,
            seed.learning_rate, seed.momentum, seed.num_label, seed.seq_length,
            seed.num_hidden, seed.num_lstm_layer) == (30000, 3000, 128, 100, 0.001, 0.9,
                                                      4, 80, 100, 2)
    assert seed.optimizer == 'sgd' and not seed.normalize and not seed.bidirectional
    assert seed.conv_channels == () and seed.clip_gradient == 0
