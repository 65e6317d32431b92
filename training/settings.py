"""The settings of a training run, resolved once from the command line of lstm_ocr_train.py.

`resolve` decides what kind of run it is (fresh, resumed or fine-tuned; on drawn or labelled
captchas) and every setting's final value with where it came from: the recipe
(hyperparameters.RECIPES), the checkpoint's PREFIX-config.json, fine-tuning's own training
settings (hyperparameters.FINETUNE), the command line, the data (the longest label), or an
adjustment (more LSTM steps, fewer passes over a large dataset for fine-tuning). For each
field of ModelConfig, the command line wins; else, when resuming or fine-tuning, the
checkpoint's (for fine-tuning only the ones that shape the network and how it reads);
else the recipe's. Nothing after `resolve` reads the argparse namespace.
"""
import dataclasses
import os

from common.alphabet import DIGITS, Alphabet
from hyperparameters import (
    FINETUNE,
    NETWORK_FIELDS,
    RECIPES,
    VIEW_FIELDS,
    Hyperparams,
    finetuning,
    finetuning_epochs,
)
from training import checkpoint, model_config
from training.data import Data, DataSource

FRESH, RESUME, FINETUNE_RUN = 'fresh', 'resume', 'fine-tune'
COMMAND_LINE, CHECKPOINT, FINETUNING, DATA, DEFAULT = (
    'command line', 'checkpoint', 'fine-tuning', 'data', 'default')
ADJUSTED = 'adjustment'
# fewer LSTM steps a character read long labels far worse: docs/decisions.md#steps-per-character
STEPS_PER_CHARACTER = 5


@dataclasses.dataclass(frozen=True)
class RunSettings:
    """Everything a training run does, decided before it starts."""
    kind: str                      # FRESH, RESUME or FINETUNE_RUN
    config: model_config.ModelConfig  # what its checkpoints record (network, training, alphabet)
    sources: dict                  # setting name -> where its value came from
    data_source: DataSource
    prefix: str                    # checkpoints are PREFIX-NNNN.params
    begin_epoch: int               # the resumed epoch, or 0
    start_from: tuple = None       # (prefix, epoch) of the checkpoint resumed or fine-tuned from
    earlier: model_config.ModelConfig = None  # that checkpoint's settings
    kv_store: str = 'local'
    gpu: int = 0                   # GPUs to train on; else `cpu` CPU contexts
    cpu: int = 1
    num_proc: int = 1              # captcha-drawing worker processes
    metric: str = 'acc'            # training accuracy logged: 'acc' or 'lcs'
    seed: int = None
    notes: tuple = ()              # what the log should say about how the settings were made

    @property
    def with_optimizer_states(self):
        """Parameter-server kvstores keep the optimizer states on the servers, not here."""
        return not self.kv_store.startswith('dist')

    def table(self):
        """The logged block: the kind of run, every setting with its source, the notes."""
        lines = [f"Settings of this {self.kind} run ({self.data_source.describe()}), checkpoints "
                 f"{self.prefix}-NNNN from epoch {self.begin_epoch + 1}:"]
        values = {**dataclasses.asdict(self.config.hp), 'charset': self.config.charset,
                  'num_label': self.config.num_label, 'loss': self.config.loss,
                  **self.run_options()}
        shown = {name: repr(value) for name, value in values.items()}
        width, value_width = max(map(len, shown)), max(map(len, shown.values()))
        lines += [f"  {name:<{width}}  {value:<{value_width}}  {self.sources[name]}"
                  for name, value in shown.items()]
        return '\n'.join(lines + [f"  * {note}" for note in self.notes])

    def run_options(self):
        start = (None if self.start_from is None
                 else checkpoint.params_path(*self.start_from))
        return {'start_from': start, 'kv_store': self.kv_store, 'gpu': self.gpu,
                'cpu': self.cpu, 'num_proc': self.num_proc, 'metric': self.metric,
                'seed': self.seed, 'length': self.data_source.length}


def run_kind(load_epoch, finetune):
    if load_epoch is not None:
        return RESUME
    return FRESH if finetune is None else FINETUNE_RUN


def starting_checkpoint(kind, prefix, load_epoch, finetune):
    """(prefix, epoch) of the checkpoint a run resumes or fine-tunes from, or None."""
    if kind == RESUME:
        return prefix, load_epoch
    if kind == FINETUNE_RUN:
        return model_config.split_checkpoint(finetune)
    return None


def check_not_the_source(kind, prefix, start_from):
    """A fine-tuning run must not write over the checkpoint it starts from."""
    if kind == FINETUNE_RUN and os.path.realpath(prefix) == os.path.realpath(start_from[0]):
        raise ValueError(f"--prefix {prefix} is where --finetune's checkpoint lies: its "
                         "files would be overwritten; choose another --prefix")


def earlier_config(start_from):
    """The settings of that checkpoint (the original example's if it has none), or None."""
    if start_from is None:
        return None
    return model_config.load(start_from[0]) or model_config.LEGACY


def hyperparams(recipe, kind, earlier, explicit):
    """The run's Hyperparams -> (hp, {field: source}, notes)."""
    names = [f.name for f in dataclasses.fields(Hyperparams)]
    hp, sources, notes = RECIPES[recipe], dict.fromkeys(names, f"recipe {recipe}"), []
    if kind == RESUME:
        hp, sources = earlier.hp, dict.fromkeys(names, CHECKPOINT)
    elif kind == FINETUNE_RUN:
        hp = finetuning(hp, earlier.hp)
        sources.update(dict.fromkeys(NETWORK_FIELDS + VIEW_FIELDS, CHECKPOINT))
        sources.update(dict.fromkeys(FINETUNE, FINETUNING))
        if hp.column_pool != earlier.hp.column_pool:
            sources['column_pool'] = ADJUSTED
    hp = dataclasses.replace(hp, **explicit)
    sources.update(dict.fromkeys(explicit, COMMAND_LINE))
    if kind == FINETUNE_RUN:
        notes += finetuned_network_notes(explicit, earlier.hp, hp)
    why = hp.problem()
    if why:
        raise ValueError(why)
    return hp, sources, notes


def finetuned_network_notes(explicit, checkpoint_hp, hp):
    """How a fine-tuned network differs from its checkpoint's (settings given on the
    command line, more LSTM steps), and which other views it reads through."""
    notes = []
    replaced = [f"{name} {getattr(checkpoint_hp, name)!r} by {value!r}"
                for name, value in explicit.items()
                if name in NETWORK_FIELDS and value != getattr(checkpoint_hp, name)]
    if replaced:
        notes.append(f"Replacing the checkpoint's network settings: {', '.join(replaced)}")
    if hp.num_steps > checkpoint_hp.num_steps:
        notes.append(f"Reading in {hp.num_steps} LSTM steps where the checkpoint read in "
                     f"{checkpoint_hp.num_steps}: fine-tuning reads better in more, and column "
                     f"pooling has no parameters (--column_pool {checkpoint_hp.column_pool} "
                     f"keeps {checkpoint_hp.num_steps})")
    views = [name for name in VIEW_FIELDS if getattr(hp, name)]
    if views:
        notes.append("Reading images it is unsure of again through other views, as the "
                     f"checkpoint does: {', '.join(views)} (lstm_ocr_infer.py --one_view "
                     "reads once)")
    return notes


def chosen(*candidates):
    """The first (value, source) of `candidates` whose value is not None."""
    return next((value, source) for value, source in candidates if value is not None)


def check_resumable(kind, earlier, charset, prefix):
    """A resumed run reads its checkpoint's characters. Raises ValueError."""
    if kind == RESUME and charset != earlier.charset:
        raise ValueError(f"cannot resume: {prefix} reads {earlier.charset!r}, not "
                         f"--charset {charset!r}; fine-tune with --finetune to change it")


def label_notes(hp, num_label, chars, data):
    """Advice on too few LSTM steps for the labels, and on labels folded to one case."""
    notes = []
    if hp.num_steps < STEPS_PER_CHARACTER * num_label and hp.finer_pooling():
        finer = dataclasses.replace(hp, column_pool=hp.finer_pooling())
        notes.append(f"{hp.num_steps} LSTM steps for labels of up to {num_label} characters: "
                     f"with fewer than {STEPS_PER_CHARACTER} a character long labels read "
                     f"worse; --column_pool {finer.column_pool} gives {finer.num_steps}")
    if chars.case and any(t != chars.fold(t) for t in data.texts()):
        notes.append(f"Labels are folded to {chars.case} case: the alphabet {chars.chars!r} "
                     "has that case only")
    return notes


def fewer_passes_if_large(hp, samples_per_epoch):
    """Fine-tuning's Hyperparams with as many passes over its dataset as
    hyperparameters.finetuning_epochs allows (fewer over a large one) -> (hp, notes)."""
    epochs = finetuning_epochs(samples_per_epoch)
    if epochs == hp.num_epoch:
        return hp, []
    return dataclasses.replace(hp, num_epoch=epochs), [
        f"Fine-tuning for {epochs} passes instead of {hp.num_epoch}: "
        f"{epochs * samples_per_epoch:,} samples, the most fine-tuning takes (over many "
        "images fewer passes read as well; --num_epoch sets them)"]


def letters_model_note(start_from, earlier, charset):
    """Point to the shipped letters-and-digits model where a run fine-tunes another
    checkpoint for characters it has never read and that model reads them all."""
    new = set(charset) - set(earlier.charset)
    alnum = model_config.load(model_config.ALNUM_PREFIX)
    if (not new or alnum is None or not set(charset) <= set(alnum.charset)
            or os.path.abspath(start_from[0]) == model_config.ALNUM_PREFIX):
        return []
    return [f"{len(new)} characters of --charset are new to the checkpoint; --finetune "
            f"{os.path.relpath(model_config.ALNUM_PREFIX)}-{model_config.ALNUM_EPOCH:04d} "
            "starts from a model that reads them all"]


def resolve(args, rank=0, num_workers=1):
    """The parsed command line of lstm_ocr_train.py -> (RunSettings, Data): the run's every
    setting with its source, and the data it was decided on (loaded once). `args.explicit`
    holds the Hyperparams fields the command line gave; worker `rank` of `num_workers`
    matters only for the passes over a share of a labelled dataset. Raises ValueError."""
    kind = run_kind(args.load_epoch, args.finetune)
    start_from = starting_checkpoint(kind, args.prefix, args.load_epoch, args.finetune)
    check_not_the_source(kind, args.prefix, start_from)
    earlier = earlier_config(start_from)
    resumed = earlier if kind == RESUME else None  # its label length and head carry over
    hp, sources, notes = hyperparams(args.recipe, kind, earlier, args.explicit)
    charset, sources['charset'] = chosen((args.charset, COMMAND_LINE),
                                         (earlier and earlier.charset, CHECKPOINT),
                                         (DIGITS, DEFAULT))
    check_resumable(kind, earlier, charset, args.prefix)
    chars = Alphabet(charset)
    if rank == 0:
        checkpoint.check_writable(args.prefix)
    source = DataSource(args.font_path, args.train_data, args.val_data, args.cache_dir,
                        args.skip_bad, args.length)
    data = Data(source, model_config.ModelConfig(hp).conversion, chars)
    num_label, sources['num_label'] = chosen((args.num_label, COMMAND_LINE),
                                             (resumed and resumed.num_label, CHECKPOINT),
                                             (data.longest_label(chars), DATA))
    loss, sources['loss'] = chosen((args.loss, COMMAND_LINE),
                                   (resumed and resumed.loss, CHECKPOINT),
                                   ('ctc', DEFAULT))
    notes += label_notes(hp, num_label, chars, data)
    if kind == FINETUNE_RUN and source.kind == 'labelled' and 'num_epoch' not in args.explicit:
        images = data.images_per_worker(hp.eval_epoch_size, rank, num_workers)
        hp, fewer = fewer_passes_if_large(hp, max(1, images // hp.batch_size) * hp.batch_size)
        if fewer:
            sources['num_epoch'] = ADJUSTED
            notes += fewer
    if kind == FINETUNE_RUN:
        notes += letters_model_note(start_from, earlier, charset)
    sources.update({name: COMMAND_LINE if name in args.given else DEFAULT
                    for name in ('kv_store', 'gpu', 'cpu', 'num_proc', 'metric', 'seed',
                                 'length')})
    sources['start_from'] = DEFAULT if kind == FRESH else COMMAND_LINE
    config = model_config.ModelConfig(hp, charset, num_label, loss)
    return RunSettings(kind, config, sources, source, args.prefix,
                       args.load_epoch if kind == RESUME else 0, start_from, earlier,
                       args.kv_store, args.gpu or 0, args.cpu, args.num_proc, args.metric,
                       args.seed, tuple(notes)), data
