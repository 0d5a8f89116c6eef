// Porthole dashboard: the lesson panel. A teacher picks a lesson, steps through it (buttons or
// the arrow keys), the class sees the narration, the command to run (with a copy button) and
// each check turning green when the engine's state satisfies it: checks are evaluated by the
// controller (/porthole/lessons/NAME/steps/N/check) against real state, again after every
// engine event. The step's focus is selected on the graph. Read-only, like the rest, unless
// the controller runs with --allow-actions: then "reset lesson" removes what the lesson's
// commands create (as `porthole lesson reset` does) through the Docker API, and nothing else.
'use strict';

const lesson = {
  name: new URLSearchParams(location.search).get('lesson') || '',
  step: Number(new URLSearchParams(location.search).get('step') || 1),
  data: null, // /porthole/lessons/NAME
  timer: null,
};

function lessonPanel() { return document.querySelector('#lesson'); }

function keepInUrl() {
  const url = new URL(location.href);
  if (lesson.name) { url.searchParams.set('lesson', lesson.name); url.searchParams.set('step', lesson.step); }
  else { url.searchParams.delete('lesson'); url.searchParams.delete('step'); }
  history.replaceState(null, '', url);
}

async function openLessons() {
  const panel = lessonPanel();
  panel.hidden = false;
  document.body.classList.add('lesson-open');
  if (lesson.name) return showStep();
  const list = await getJSON('/porthole/lessons');
  panel.replaceChildren(el('h2', { text: 'Lessons' }),
    el('ul', { class: 'lesson-list' }, ...list.map((l) => {
      const b = el('button', { class: 'lesson-pick', 'data-lesson': l.name, text: l.title });
      b.onclick = () => { lesson.name = l.name; lesson.step = 1; lesson.data = null; showStep(); };
      return el('li', {}, b, el('span', { class: 'line', text: ` ${l.steps} steps — ${l.goal}` }));
    })));
}

function closeLessons() {
  lesson.name = '';
  lesson.data = null;
  lessonPanel().hidden = true;
  document.body.classList.remove('lesson-open');
  keepInUrl();
}

async function showStep() {
  if (!lesson.data || lesson.data.name !== lesson.name) lesson.data = await getJSON(`/porthole/lessons/${encodeURIComponent(lesson.name)}`);
  const steps = lesson.data.lesson.steps;
  lesson.step = Math.min(Math.max(1, lesson.step), steps.length);
  keepInUrl();
  const s = steps[lesson.step - 1];
  const commands = (s.task ? [] : s.run).map((c) => {
    const copy = el('button', { class: 'copy', title: 'copy the command', text: 'copy' });
    copy.onclick = () => navigator.clipboard && navigator.clipboard.writeText(c);
    return el('li', {}, el('code', { class: 'cmd', text: '$ ' + c }), ' ', copy);
  });
  const back = el('button', { id: 'lesson-back', text: '← back' });
  const next = el('button', { id: 'lesson-next', text: 'next →' });
  const close = el('button', { id: 'lesson-close', text: 'close' });
  back.onclick = () => { lesson.step -= 1; showStep(); };
  next.onclick = () => { lesson.step += 1; showStep(); };
  close.onclick = closeLessons;
  const reset = el('button', { id: 'lesson-reset', class: 'action', text: 'reset lesson' });
  reset.onclick = resetLesson;
  back.disabled = lesson.step === 1;
  next.disabled = lesson.step === steps.length;
  lessonPanel().replaceChildren(
    el('h2', { text: lesson.data.lesson.title }),
    el('p', { class: 'line', id: 'lesson-step', text: `Step ${lesson.step} of ${steps.length}` }),
    el('p', { class: 'narration', text: s.narration }),
    s.task ? el('p', { class: 'task', text: 'Your turn: ' + s.task }) : '',
    el('ul', { class: 'commands' }, ...commands),
    el('ul', { id: 'lesson-checks' }),
    el('nav', { class: 'lesson-nav' }, back, next, close, document.body.dataset.actions === 'true' ? reset : ''));
  focusStep(s);
  checkNow();
}

/** Selects the node the step talks about, by its name on the graph. */
function focusStep(s) {
  if (!s.focus) return;
  const [kind, rest] = [s.focus.slice(0, s.focus.indexOf(':')), s.focus.slice(s.focus.indexOf(':') + 1)];
  const name = kind === 'file' ? rest.slice(0, rest.indexOf(':')) : rest;
  const column = kind === 'file' ? 'container' : kind;
  const found = state.graph.nodes.find((n) => n.column === column && (n.title === name || n.title.startsWith(name + ':')));
  if (found && state.selected !== found.key) select(found.key);
}

async function checkNow() {
  if (!lesson.name) return;
  const [name, n] = [lesson.name, lesson.step];
  const outcome = await getJSON(`/porthole/lessons/${encodeURIComponent(name)}/steps/${n}/check`).catch((e) => ({ error: e.message }));
  if (lesson.name !== name || lesson.step !== n) return; // moved on meanwhile
  const list = document.querySelector('#lesson-checks');
  if (!list) return;
  if (outcome.error) { list.replaceChildren(el('li', { class: 'check failed', text: outcome.error })); return; }
  const row = (c, pre) => el('li', { class: `check ${c.passed ? 'passed' : 'failed'}` },
    el('span', { class: 'mark', text: c.passed ? '✓ ' : '✗ ' }),
    el('span', { text: (pre ? 'needs: ' : '') + c.check }),
    c.passed || !c.reason ? '' : el('span', { class: 'reason', text: ' — ' + c.reason }));
  // Preconditions are what must hold before the step's command: once its checks hold, the
  // command ran, and what it changed may well unmake them (a new anonymous volume, say).
  const done = outcome.checks.length > 0 && outcome.checks.every((c) => c.passed);
  const pre = done ? [] : outcome.preconditions.map((c) => row(c, true));
  list.replaceChildren(...pre, ...outcome.checks.map((c) => row(c, false)));
  list.classList.toggle('passed', done);
  const focus = lesson.data && lesson.data.lesson.steps[n - 1].focus;
  if (focus) focusStep(lesson.data.lesson.steps[n - 1]);
}

/** Removes what the lesson's commands create and exists now: containers (with their anonymous
 * volumes), volumes, images; asks first with the list. */
async function resetLesson() {
  const c = lesson.data.creates;
  const enc = encodeURIComponent;
  const things = [
    ...c.containers.map((n) => ['container', n, `/containers/${enc(n)}/json`, `/containers/${enc(n)}?force=1&v=1`]),
    ...c.volumes.map((n) => ['volume', n, `/volumes/${enc(n)}`, `/volumes/${enc(n)}`]),
    ...c.images.map((n) => ['image', n, `/images/${enc(n)}/json`, `/images/${enc(n)}`]),
  ];
  const present = [];
  for (const t of things) if ((await fetch(t[2], { cache: 'no-store' })).ok) present.push(t);
  if (present.length === 0) { alert('Nothing of this lesson is left.'); return; }
  if (!confirm(`Reset removes ${present.map(([k, n]) => `${k} ${n}`).join(', ')}, and nothing else.`)) return;
  for (const [kind, name, , url] of present) {
    const r = await fetch(url, { method: 'DELETE' });
    if (!r.ok) alert(`removing ${kind} ${name}: ${(await r.json().catch(() => ({}))).message || r.statusText}`);
  }
  lesson.step = 1;
  showStep();
}

/** After each engine event: the state changed, so the checks may have. */
function lessonEvent() {
  if (!lesson.name) return;
  clearTimeout(lesson.timer);
  lesson.timer = setTimeout(checkNow, 200);
}

document.querySelector('#lessons').onclick = () => (lessonPanel().hidden ? openLessons() : closeLessons());
document.addEventListener('keydown', (ev) => {
  if (ev.target.matches('input, textarea') || !lesson.name) return;
  if (ev.key === 'ArrowRight' || ev.key === 'PageDown') { lesson.step += 1; showStep(); }
  else if (ev.key === 'ArrowLeft' || ev.key === 'PageUp') { lesson.step -= 1; showStep(); }
});
if (lesson.name) openLessons();
