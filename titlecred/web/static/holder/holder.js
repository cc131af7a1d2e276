// Holder pages: copy a consent code, show the exam-body choice only for the exam channel, and refuse
// an over-large cover photo before it is uploaded. Every page works without this script.
(function () {
  "use strict";

  function copyButtons() {
    document.querySelectorAll("[data-copy-target]").forEach(function (button) {
      var target = document.getElementById(button.getAttribute("data-copy-target"));
      var status = button.parentNode.querySelector(".holder-copied");
      if (!target || !navigator.clipboard) {
        return;
      }
      button.hidden = false;
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(target.textContent.trim()).then(function () {
          if (status) {
            status.textContent = status.getAttribute("data-copied-text");
          }
        }, function () {
          // No clipboard permission: select the code so that the reader can copy it by hand.
          var range = document.createRange();
          range.selectNodeContents(target);
          var selection = window.getSelection();
          selection.removeAllRanges();
          selection.addRange(range);
        });
      });
    });
  }

  function channelToggle() {
    var radios = document.querySelectorAll("input[type=radio][name=channel]");
    var parts = document.querySelectorAll("[data-show-for-channel]");
    if (!radios.length || !parts.length) {
      return;
    }
    function update() {
      var chosen = document.querySelector("input[type=radio][name=channel]:checked");
      parts.forEach(function (part) {
        part.hidden = !chosen || chosen.value !== part.getAttribute("data-show-for-channel");
      });
    }
    radios.forEach(function (r) { r.addEventListener("change", update); });
    update();
  }

  function photoLimits() {
    document.querySelectorAll("input[type=file][data-max-bytes]").forEach(function (input) {
      var max = parseInt(input.getAttribute("data-max-bytes"), 10);
      var message = document.getElementById(input.id + "-error");
      input.addEventListener("change", function () {
        var file = input.files && input.files[0];
        var tooLarge = !!file && file.size > max;
        var text = message ? message.getAttribute("data-too-large") : "too large";
        input.setCustomValidity(tooLarge ? text : "");
        input.setAttribute("aria-invalid", tooLarge ? "true" : "false");
        if (message) {
          message.textContent = tooLarge ? text : "";
          message.hidden = !tooLarge;
        }
      });
    });
  }

  copyButtons();
  channelToggle();
  photoLimits();
}());
