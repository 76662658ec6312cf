/* The patient sheet's print button: shown only where the script runs (the browser's own
   print command works without it). */
(function () {
  "use strict";
  var button = document.getElementById("print-sheet");
  if (!button || !window.print) { return; }
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
}());
