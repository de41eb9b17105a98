// `drive` in src/browser.js, which runs every async call of the library (src/drive.rs): each
// `run.step()` runs the call until it waits on a promise (handed over with `waitOn`) or ends;
// the next step resumes it with that promise's outcome (`settled`). The runs here follow the
// same protocol as the wasm's `Run`, written in JS: a list of stages, each stage reading the
// outcome of the last promise and either waiting on another or ending.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { drive, settled, waitOn } from '../../src/browser.js';

/**
 * A run going through `stages`: stage 0 gets nothing, each later one the outcome of the promise
 * the one before waited on (`{ ok, value }`, read with `settled` as the wasm does). A stage
 * returns `{ wait: promise }`, `{ done: result }` or throws. `freed` counts `free()` calls.
 */
function fakeRun(stages) {
  let stage = 0;
  const run = {
    freed: 0,
    seen: [],
    step() {
      if (stage > 0) {
        try {
          run.seen.push({ ok: true, value: settled() });
        } catch (value) {
          run.seen.push({ ok: false, value });
        }
      }
      const next = stages[stage](run.seen.at(-1));
      stage += 1;
      if ('wait' in next) {
        waitOn(next.wait);
        return undefined;
      }
      return next.done;
    },
    free() {
      run.freed += 1;
    },
  };
  return run;
}

test('a call waits on each promise in turn and gets each outcome, a rejection included', async () => {
  const refused = new Error('refused');
  const run = fakeRun([
    () => ({ wait: Promise.resolve('head bytes') }),
    () => ({ wait: Promise.reject(refused) }),
    () => ({ wait: new Promise((resolve) => setTimeout(() => resolve({ url: 'u' }), 5)) }),
    () => ({ done: { taskId: 't1' } }),
  ]);
  assert.deepEqual(await drive(run), { taskId: 't1' });
  assert.deepEqual(run.seen, [
    { ok: true, value: 'head bytes' },
    { ok: false, value: refused },
    { ok: true, value: { url: 'u' } },
  ]);
  assert.equal(run.freed, 1);
});

test('a call that ends at once resolves, and its error rejects, its run freed either way', async () => {
  const quick = fakeRun([() => ({ done: 42 })]);
  assert.equal(await drive(quick), 42);
  assert.equal(quick.freed, 1);

  const invalid = Object.assign(new Error('sourceImage is required'), { code: 'invalid_parameter' });
  const failing = fakeRun([
    () => ({ wait: Promise.resolve(1) }),
    () => {
      throw invalid;
    },
  ]);
  await assert.rejects(drive(failing), (error) => error === invalid);
  assert.equal(failing.freed, 1);
});

test('a call started inside another call\'s step keeps its own promise and outcome', async () => {
  let inner = null;
  const outer = fakeRun([
    () => ({ wait: Promise.resolve('outer 1') }),
    () => {
      // As an `onStatus` callback starting a submit while the wait is stepping.
      inner = drive(fakeRun([
        () => ({ wait: Promise.resolve('inner 1') }),
        (outcome) => ({ done: `inner got ${outcome.value}` }),
      ]));
      return { wait: Promise.resolve('outer 2') };
    },
    (outcome) => ({ done: `outer got ${outcome.value}` }),
  ]);
  assert.equal(await drive(outer), 'outer got outer 2');
  assert.equal(await inner, 'inner got inner 1');
  assert.deepEqual(outer.seen.map((o) => o.value), ['outer 1', 'outer 2']);
});
