// Calendars: two clicks select a range (the start row, then the end row of the same column);
// clicking the same row twice books what its link proposes. Without this script each « libre »
// link opens the prefilled form. Escape forgets the start. The table scrolls to the working
// day when the whole day is drawn.
(function () {
  'use strict';
  var status = document.getElementById('pick-status');
  var first = null;
  function say(text) { if (status) status.textContent = text; }
  function forget() {
    if (first) { first.classList.remove('picked'); first.removeAttribute('aria-pressed'); }
    first = null;
  }
  function label(a) { return a.getAttribute('data-start').slice(11); }
  document.addEventListener('click', function (e) {
    var a = e.target.closest && e.target.closest('table.calendar a.slot');
    if (!a) return;
    e.preventDefault();
    if (!first || first.getAttribute('data-col') !== a.getAttribute('data-col')) {
      forget();
      first = a;
      a.classList.add('picked');
      a.setAttribute('aria-pressed', 'true');
      say('Début : ' + label(a) + '. Cliquez sur le créneau de fin (le même pour réserver ce créneau) ; Échap pour annuler.');
      return;
    }
    if (a === first) { window.location.href = a.getAttribute('href'); return; }
    var from = Number(first.getAttribute('data-idx')), to = Number(a.getAttribute('data-idx'));
    if (to < from) { forget(); say('La fin précède le début : choisissez à nouveau le début.'); return; }
    var col = first.getAttribute('data-col');
    for (var i = from; i <= to; i++) {
      if (!document.querySelector('table.calendar a.slot[data-col="' + col + '"][data-idx="' + i + '"]')) {
        forget();
        say('La plage choisie n\'est pas libre d\'un bout à l\'autre : choisissez à nouveau le début.');
        return;
      }
    }
    var url = new URL(first.getAttribute('href'), window.location.href);
    url.searchParams.set('start', first.getAttribute('data-start'));
    url.searchParams.set('end', a.getAttribute('data-end'));
    window.location.href = url.pathname + url.search;
  });
  document.addEventListener('keydown', function (e) {
    if (e.key === 'Escape' && first) { forget(); say('Sélection annulée.'); }
  });
  var box = document.querySelector('.calendar-scroll[data-scroll-to]');
  if (box) {
    var row = document.getElementById(box.getAttribute('data-scroll-to'));
    if (row) box.scrollTop = row.offsetTop - box.querySelector('thead').offsetHeight;
  }
})();
