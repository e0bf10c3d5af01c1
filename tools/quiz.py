"""Sphinx extension: self-check quizzes with immediate feedback, offline, no kernel.

A chapter's markdown cell holds

    ```{quiz} quizzes/00_graphs.yml
    ```

and the YAML file (``chapters/quizzes/<stem>.yml``, where a translator finds it) holds the
questions::

    questions:
      - question: What does ... ?          # MyST markdown: math, `code`, emphasis
        options:
          - answer: the right one
            correct: true
            why: why it is right            # shown when the reader picks it
          - answer: a tempting wrong one
            why: why it is wrong

The directive renders every question, option and explanation with the MyST parser, as
plain ``div``\\ s; ``_static/quiz.js`` (with ``_static/quiz.css``; Jupyter Book adds every script and style
sheet of ``_static/`` to every page) turns each option into a button and shows the picked
option's explanation (``Right.`` or ``Not quite.`` first) in the question's feedback box.
Those words and the "Question 1 of 4" line are the config value ``quiz_labels``, so a
translated edition sets its own (``config:`` of its entry in ``locales/languages.yml``); the
directive writes them into the page, hidden, where ``quiz.js`` reads them.
Nothing is fetched from the network; without JavaScript the questions still read as a list.
``tests/test_browser.py`` answers one question right and one wrong in Chromium.

Checks at build time (the book builds with ``-W``, so each fails the build): 3-6 questions,
at least two options each, exactly one correct option, an explanation for every option.
Registered in ``_config.yml`` under ``sphinx: local_extensions: {quiz: tools/}``.
"""
from __future__ import annotations

from pathlib import Path

import yaml
from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

MIN_QUESTIONS, MAX_QUESTIONS = 3, 6
# What quiz.js writes around the explanations; {n} and {total} number the questions.
QUIZ_LABELS = {"right": "Right.", "wrong": "Not quite.", "number": "Question {n} of {total}"}


class QuizError(ValueError):
    """A quiz file that does not follow the format of this module's docstring."""


def load_quiz(path: Path) -> list[dict]:
    """Read and check a quiz file; return its questions (each with ``question`` and ``options``)."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise QuizError(f"quiz file {path} does not exist: create it (format: tools/quiz.py)") from None
    questions = data.get("questions") if isinstance(data, dict) else None
    if not isinstance(questions, list):
        raise QuizError(f"{path}: expected a top-level `questions:` list (format: tools/quiz.py)")
    if not MIN_QUESTIONS <= len(questions) <= MAX_QUESTIONS:
        raise QuizError(f"{path}: {len(questions)} questions; a chapter's quiz has "
                        f"{MIN_QUESTIONS} to {MAX_QUESTIONS}")
    for i, q in enumerate(questions, 1):
        where = f"{path}, question {i}"
        if not isinstance(q, dict) or not str(q.get("question", "")).strip():
            raise QuizError(f"{where}: give its text under `question:`")
        options = q.get("options")
        if not isinstance(options, list) or len(options) < 2:
            raise QuizError(f"{where}: give at least two `options:`")
        for j, o in enumerate(options, 1):
            if not isinstance(o, dict) or not str(o.get("answer", "")).strip():
                raise QuizError(f"{where}, option {j}: give its text under `answer:`")
            if not str(o.get("why", "")).strip():
                raise QuizError(f"{where}, option {j}: say under `why:` why it is right or wrong")
            if not isinstance(o.get("correct", False), bool):
                raise QuizError(f"{where}, option {j}: `correct:` must be true or false")
        right = sum(bool(o.get("correct", False)) for o in options)
        if right != 1:
            raise QuizError(f"{where}: {right} options are marked `correct: true`; mark exactly one")
    return questions


def edition_labels(overrides: dict | None) -> dict[str, str]:
    """The feedback words of one edition: ``QUIZ_LABELS`` with the edition's ``quiz_labels``.

    >>> edition_labels({"right": "答对了。"})["right"], edition_labels(None)["wrong"]
    ('答对了。', 'Not quite.')
    """
    labels = {**QUIZ_LABELS, **(overrides or {})}
    unknown = set(labels) - set(QUIZ_LABELS)
    if unknown:
        raise QuizError(f"quiz_labels: unknown key(s) {sorted(unknown)}; the keys are {sorted(QUIZ_LABELS)}")
    if "{n}" not in labels["number"] or "{total}" not in labels["number"]:
        raise QuizError(f"quiz_labels: `number` must contain {{n}} and {{total}}, got {labels['number']!r}")
    return {key: str(value) for key, value in labels.items()}


class QuizDirective(SphinxDirective):
    """``{quiz} <path to YAML, relative to the page>``: the page's self-check questions."""

    required_arguments = 1
    has_content = False

    def _parsed(self, text: str, classes: list[str]) -> nodes.container:
        box = nodes.container(classes=classes)
        self.state.nested_parse(StringList(str(text).strip().splitlines(), source=self.arguments[0]),
                                self.content_offset, box)
        return box

    def _labels(self) -> nodes.container:
        """The edition's feedback words, hidden in the page for quiz.js (not translatable
        text: they come from the config value ``quiz_labels``)."""
        try:
            labels = edition_labels(self.config.quiz_labels)
        except QuizError as err:
            raise self.error(str(err)) from None
        box = nodes.container(classes=["gnn-quiz-labels"])
        for key, text in labels.items():
            box += nodes.inline(text=text, classes=[f"gnn-quiz-label-{key}"])
        return box

    def run(self) -> list[nodes.Node]:
        _, abspath = self.env.relfn2path(self.arguments[0], self.env.docname)
        self.env.note_dependency(abspath)
        try:
            questions = load_quiz(Path(abspath))
        except QuizError as err:
            raise self.error(str(err)) from None
        quiz = nodes.container(classes=["gnn-quiz"])
        quiz += self._labels()
        for q in questions:
            box = nodes.container(classes=["gnn-quiz-question"])
            box += self._parsed(q["question"], ["gnn-quiz-prompt"])
            opts = nodes.container(classes=["gnn-quiz-options"])
            for o in q["options"]:
                kind = "gnn-quiz-right" if o.get("correct", False) else "gnn-quiz-wrong"
                opt = nodes.container(classes=["gnn-quiz-option", kind])
                opt += self._parsed(o["answer"], ["gnn-quiz-answer"])
                opt += self._parsed(o["why"], ["gnn-quiz-why"])
                opts += opt
            box += opts
            quiz += box
        return [quiz]


def setup(app: Sphinx) -> dict:
    app.add_config_value("quiz_labels", {}, "env", types=[dict])
    app.add_directive("quiz", QuizDirective)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
