"""Options written into prompts (real strings from the evals registry) become candidates."""

import pytest

from zp_datasets.choices import lettered_options, listed_options, multiple_choice, share_parsed

EXAM = """Question: Which gas do plants take in for photosynthesis?
A. Oxygen
B. Carbon dioxide
C. Nitrogen
D. Hydrogen
Answer:"""
DIRECTIONS = ("You are facing north and turn right twice. Which way do you face? "
              "A) North B) East C) South D) West. The output should be a single letter.")
CHESS = "Which move gives checkmate? A: f4, B: Rd2, C: Nc3, D: Qb2 Answer only with the letter."
COMPUTER_SCIENCE = "How many bits are in a nibble? a) 2  b) 4  c) 8  d) 16"
JEE = """Find the angle between the vectors.
(A) 60
(B) 90
(C) 120
(D) 30
"""
CONTINUED = """Which sentence is true?
A. The first option is written
over two lines
B. The second option
Please answer with a letter."""
GUESS = "Who sang these lyrics? 'Hello from the other side' Choices: Adele, Taylor Swift, Beyonce"
WORDS = "Which word is related to 'ocean'? options: [wave, desk, pencil]"


@pytest.mark.parametrize("text, answer, candidates, target", [
    (EXAM, "B", ["Oxygen", "Carbon dioxide", "Nitrogen", "Hydrogen"], "Carbon dioxide"),
    (DIRECTIONS, "C", ["North", "East", "South", "West"], "South"),
    (CHESS, "D", ["f4", "Rd2", "Nc3", "Qb2"], "Qb2"),
    (COMPUTER_SCIENCE, "b", ["2", "4", "8", "16"], "4"),
    (JEE, "B", ["60", "90", "120", "30"], "90"),
    (CONTINUED, "A", ["The first option is written over two lines", "The second option"],
     "The first option is written over two lines"),
    (GUESS, "adele", ["Adele", "Taylor Swift", "Beyonce"], "Adele"),
    (WORDS, "wave", ["wave", "desk", "pencil"], "wave"),
])
def test_options_in_the_text_become_candidates(text, answer, candidates, target):
    assert multiple_choice(text, answer) == (candidates, target)


def test_the_last_run_of_options_wins():
    text = "Example:\nA. cat\nB. dog\nAnswer: A\n\nNow you:\nA. red\nB. blue\nC. green\nAnswer:"
    assert lettered_options(text, "ABCDEFGHIJ") == [("A", "red"), ("B", "blue"), ("C", "green")]


@pytest.mark.parametrize("text, answer, reason", [
    ("Player 1 Hole 2 Player 2 Hole 3: who wins?", "1", "no lettered options with the answer in the text"),
    (EXAM, "E", "the answer is not an option"),
    (GUESS, "Rihanna", "the answer is not an option"),
    ("Translate 'cat' into French.", "chat", "no options with the answer in the text"),
    ("Pick one.\nA. same\nB. same\nAnswer:", "A", "fewer than two distinct options"),
])
def test_prompts_without_usable_options_say_why(text, answer, reason):
    assert multiple_choice(text, answer) == reason


def test_listed_options_and_share():
    assert listed_options("no list here") == []
    results = [multiple_choice(EXAM, "A"), multiple_choice(EXAM, "Z")]
    assert share_parsed(results) == 0.5 and share_parsed([]) == 0.0
