// Camera scanning on the receiving page, where the browser has the BarcodeDetector API (Chrome
// on Android, for example). It fills the scan input and submits its form, as a wedge scanner
// would. Typing and wedge scanners always work without it.
(function () {
  "use strict";
  if (!("BarcodeDetector" in window) || !navigator.mediaDevices) return;
  var formats = ["qr_code", "code_128", "ean_13", "ean_8", "upc_a", "code_39"];

  function start(button) {
    var input = document.getElementById(button.getAttribute("data-camera-for"));
    var video = document.querySelector("video.camera");
    if (!input || !video) return;
    var detector = new window.BarcodeDetector({ formats: formats });
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (stream) {
      video.srcObject = stream;
      video.hidden = false;
      video.play();
      function stop() {
        stream.getTracks().forEach(function (t) { t.stop(); });
        video.hidden = true;
      }
      function look() {
        detector.detect(video).then(function (codes) {
          if (codes.length) {
            stop();
            input.value = codes[0].rawValue;
            input.form.requestSubmit();
          } else {
            window.requestAnimationFrame(look);
          }
        }).catch(stop);
      }
      look();
    }).catch(function () { button.textContent = "Camera not available: type or use a scanner"; });
  }

  function wire(root) {
    root.querySelectorAll("button.camera-scan").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { start(button); });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { wire(document); });
  document.addEventListener("htmx:afterSwap", function (event) { wire(event.target); });
})();
