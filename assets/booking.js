// The booking form: the estimated price follows the times, quantity and member as they are
// typed (the server computes it, as on submit); choosing another resource reloads the form
// with the fields that resource takes. Without this script the price shows on submit.
(function () {
  'use strict';
  var form = document.getElementById('booking-form');
  var box = document.getElementById('estimate');
  if (!form) return;
  var timer = null;
  function refresh() {
    if (!box) return;
    var params = new URLSearchParams();
    ['resource_id', 'member_id', 'start', 'end', 'quantity'].forEach(function (name) {
      var field = form.elements[name];
      if (field) params.set(name, field.value);
    });
    fetch('/bookings/estimate?' + params.toString(), { credentials: 'same-origin' })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html === null) return;
        var holder = document.createElement('div');
        holder.innerHTML = html;
        var fresh = holder.firstElementChild;
        if (fresh) box.innerHTML = fresh.innerHTML;
      })
      .catch(function () {});
  }
  form.addEventListener('input', function (e) {
    if (['start', 'end', 'quantity', 'member_id'].indexOf(e.target.name) < 0) return;
    clearTimeout(timer);
    timer = setTimeout(refresh, 250);
  });
  form.addEventListener('change', function (e) {
    if (e.target.name !== 'resource_id') return;
    var params = new URLSearchParams();
    params.set('resource_id', e.target.value);
    ['start', 'end'].forEach(function (name) { if (form.elements[name].value) params.set(name, form.elements[name].value); });
    window.location.href = '/bookings/new?' + params.toString();
  });
})();
