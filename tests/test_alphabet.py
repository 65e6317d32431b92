"""Label encoding for any alphabet: written once (alphabet.py), shared by everything."""
import numpy as np
import pytest

from common.alphabet import Alphabet, covering_charset, parse_charset, steps_needed


@pytest.mark.parametrize('text,chars', [
    ('0-9', '0123456789'),
    ('0-9A-F', '0123456789ABCDEF'),
    ('abc', 'abc'),
    ('a-c-', 'abc-'),  # a trailing dash is a character
    ('x0-2', 'x012'),
])
def test_charset_ranges(text, chars):
    assert parse_charset(text) == chars


@pytest.mark.parametrize('text,says', [
    ('', 'empty'), ('9-0', 'backwards'), ('0-9a-z0', "'0' more than once"), ('a b', 'space'),
])
def test_bad_charsets(text, says):
    with pytest.raises(ValueError, match=says):
        parse_charset(text)


def test_digits_are_the_originals_classes():
    digits = Alphabet('0123456789')
    np.testing.assert_array_equal(digits.encode('089', 4), [1, 9, 10, 0])
    assert digits.decode([1, 9, 10]) == '089' and digits.num_classes == 11 and digits.is_digits


@pytest.mark.parametrize('charset,text', [('0-9A-Z', 'A7K2Q'), ('0-9a-z', 'zz0a9'),
                                          ('0-9a-zA-Z', 'aZ0'), ('+=-', '=-+')])
def test_any_alphabet_round_trips(charset, text):
    alphabet = Alphabet(parse_charset(charset))
    label = alphabet.encode(text, 6)
    assert label.dtype == np.float32 and label.shape == (6,)
    assert alphabet.label_text(label) == text
    assert not alphabet.is_digits


def test_one_case_alphabets_fold_labels_and_mixed_ones_do_not():
    assert Alphabet(parse_charset('0-9A-Z')).fold('a7k2q') == 'A7K2Q'
    assert Alphabet(parse_charset('0-9a-z')).fold('A7K2Q') == 'a7k2q'
    assert Alphabet(parse_charset('0-9a-zA-Z')).fold('aB') == 'aB'
    assert Alphabet().fold('0089') == '0089'


def test_problems_name_what_to_fix():
    az = Alphabet(parse_charset('0-9A-Z'))
    assert 'not in the alphabet' in az.problem('A-1', 4)
    assert az.problem('A-1', 4, charset_hint='0-9A-Z-').endswith(
        "(--charset 0-9A-Z- spells every label)")
    assert az.problem('A&1', 4, charset_hint='0-9A-Z&').endswith(  # quoted for the shell
        "(--charset '0-9A-Z&' spells every label)")
    assert 'more than --num_label 4' in az.problem('ABCDE', 4)
    assert 'needs 5 CTC steps' in az.problem('AAA', 4, num_steps=4)
    assert 'empty' in az.problem('', 4)
    assert az.problem('AAA', 4, num_steps=5) is None
    with pytest.raises(ValueError, match='more than --num_label'):
        az.encode('ABCDE', 4)


def test_steps_needed_counts_a_blank_between_repeats():
    assert steps_needed('1234') == 4 and steps_needed('1123') == 5 and steps_needed('111') == 5


@pytest.mark.parametrize('texts,charset', [
    (['0089', '12'], '0-9'), (['A7K2Q', 'BB1'], '0-9A-Z'), (['ab'], 'a-z'),
    (['A7', 'b'], '0-9a-zA-Z'), (['1+2=', '3-4'], '0-9+=-'), (['x-'], 'a-z-'),
])
def test_covering_charset_spells_every_text(texts, charset):
    assert covering_charset(texts) == charset
    chars = parse_charset(charset)
    assert set(''.join(texts)) <= set(chars)
