// The book page's countdown: ticks every second, reloads when the offer runs out (the page
// then says it passed to the next in line). The page works without it. The sentence is the
// page's, in its language: `data-left` holds it with {time} where the time goes.
(function () {
  var el = document.querySelector("[data-seconds-left]");
  if (!el) return;
  var sentence = el.getAttribute("data-left") || "{time} left";
  var end = Date.now() + 1000 * parseInt(el.getAttribute("data-seconds-left"), 10);
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function tick() {
    var left = Math.max(0, Math.round((end - Date.now()) / 1000));
    var h = Math.floor(left / 3600), m = Math.floor((left % 3600) / 60), s = left % 60;
    el.textContent = sentence.replace("{time}", (h ? h + " h " : "") + pad(m) + " min " + pad(s) + " s");
    if (left <= 0) { window.location.reload(); return; }
    setTimeout(tick, 1000);
  }
  tick();
})();
