"""tools/quiz.py: every chapter's quiz file is valid, and malformed files are refused with a
message that says what to fix (the book's -W build turns the refusal into a failed build)."""
import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
import quiz  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted((ROOT / "chapters" / "quizzes").glob("*.yml"))


def test_every_chapter_has_a_quiz_file():
    stems = {p.stem for p in (ROOT / "chapters").glob("*.ipynb")}
    missing = {s for s in stems if not s.startswith("A2")} - {p.stem for p in FILES}
    assert not missing, f"no quiz file for {sorted(missing)}"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_quiz_file_is_valid(path):
    questions = quiz.load_quiz(path)
    assert quiz.MIN_QUESTIONS <= len(questions) <= quiz.MAX_QUESTIONS
    assert all(len(q["options"]) >= 3 for q in questions), "each question offers at least 3 options"


def _write(tmp_path, questions):
    p = tmp_path / "q.yml"
    p.write_text(yaml.safe_dump({"questions": questions}))
    return p


def _q(right=1, why=True, n_options=3):
    return {"question": "Q?", "options": [
        {"answer": f"a{i}", "correct": i < right, **({"why": "because"} if why else {})} for i in range(n_options)]}


@pytest.mark.parametrize("questions,message", [
    ([_q()] * 2, "2 questions"),
    ([_q()] * 7, "7 questions"),
    ([_q(right=2)] + [_q()] * 2, "2 options are marked"),
    ([_q(right=0)] + [_q()] * 2, "0 options are marked"),
    ([_q(why=False)] + [_q()] * 2, "why it is right or wrong"),
    ([_q(n_options=1)] + [_q()] * 2, "at least two"),
])
def test_malformed_quiz_is_refused(tmp_path, questions, message):
    with pytest.raises(quiz.QuizError, match=message):
        quiz.load_quiz(_write(tmp_path, questions))


def test_missing_file_says_so(tmp_path):
    with pytest.raises(quiz.QuizError, match="does not exist"):
        quiz.load_quiz(tmp_path / "nope.yml")


def test_edition_labels_override_the_english_words_and_keep_the_rest():
    labels = quiz.edition_labels({"right": "答对了。", "number": "第 {n} 题（共 {total} 题）"})
    assert labels == {"right": "答对了。", "wrong": "Not quite.", "number": "第 {n} 题（共 {total} 题）"}
    assert quiz.edition_labels(None) == quiz.QUIZ_LABELS


@pytest.mark.parametrize("overrides,message", [
    ({"correct": "Yes."}, "unknown key"),
    ({"number": "Question {n}"}, "must contain"),
])
def test_edition_labels_refuse_unknown_keys_and_unnumbered_questions(overrides, message):
    with pytest.raises(quiz.QuizError, match=message):
        quiz.edition_labels(overrides)
