/* Self-check quizzes (tools/quiz.py): each option becomes a button; picking one shows why it
   is right or wrong in the question's feedback box. Offline, no kernel, no dependencies. */
(function () {
  "use strict";
  function setUp(question, number, total, labels) {
    const feedback = document.createElement("div");
    feedback.className = "gnn-quiz-feedback";
    feedback.setAttribute("aria-live", "polite");
    const label = document.createElement("p");
    label.className = "gnn-quiz-number";
    label.textContent = labels.number.replace("{n}", number).replace("{total}", total);
    question.insertBefore(label, question.firstChild);
    question.appendChild(feedback);
    const options = question.querySelectorAll(".gnn-quiz-option");
    options.forEach(function (option) {
      option.setAttribute("role", "button");
      option.setAttribute("tabindex", "0");
      function pick() {
        const right = option.classList.contains("gnn-quiz-right");
        options.forEach(function (o) { o.classList.remove("gnn-quiz-picked"); });
        option.classList.add("gnn-quiz-picked");
        question.classList.toggle("gnn-quiz-answered-right", right);
        question.classList.toggle("gnn-quiz-answered-wrong", !right);
        feedback.replaceChildren();
        const verdict = document.createElement("strong");
        verdict.textContent = (right ? labels.right : labels.wrong) + " ";
        feedback.appendChild(verdict);
        const why = option.querySelector(".gnn-quiz-why");
        if (why) feedback.appendChild(why.cloneNode(true));
        feedback.className = "gnn-quiz-feedback " + (right ? "gnn-quiz-feedback-right" : "gnn-quiz-feedback-wrong");
      }
      option.addEventListener("click", pick);
      option.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); pick(); }
      });
    });
  }
  // The page's edition words them (tools/quiz.py writes them hidden into every quiz).
  function label(quiz, key) {
    return quiz.querySelector(".gnn-quiz-label-" + key).textContent;
  }
  function init() {
    document.querySelectorAll(".gnn-quiz").forEach(function (quiz) {
      quiz.classList.add("gnn-quiz-ready");
      const labels = {
        right: label(quiz, "right"),
        wrong: label(quiz, "wrong"),
        number: label(quiz, "number"),
      };
      const questions = quiz.querySelectorAll(".gnn-quiz-question");
      questions.forEach(function (q, i) { setUp(q, i + 1, questions.length, labels); });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
