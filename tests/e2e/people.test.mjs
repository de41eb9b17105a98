// findPeople in headless Chromium: the people finder (pkg/detect/people/, face-api.js's face
// recognition network run by faceswap-detect) on three two-person videos that
// scripts/test-media.sh makes with ffmpeg from two portraits of @vladmandic/face-api's demo
// photo: side by side, crossing, and one who leaves the frame and returns. Each person's boxes
// must follow the path ffmpeg drew that portrait along, at every sample, and the network must
// give face-api.js's own descriptors (run by TensorFlow.js from the same devDependency).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { launchChromium, root, startProxy } from '../../scripts/harness.mjs';

let proxy;
let browser;
let page;
const requests = [];
const pageErrors = [];

before(async () => {
  execFileSync('bash', [join(root, 'scripts', 'samples.sh')], { stdio: 'inherit' });
  proxy = await startProxy();
  browser = await launchChromium();
  page = await browser.newPage();
  page.on('request', (r) => requests.push(r.url()));
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  await page.goto(`${proxy.url}/healthz`);
});

after(async () => {
  await browser?.close();
  await proxy?.stop();
});

// Where ffmpeg put each portrait's top left corner at time t (scripts/test-media.sh), and where
// the face sits in the 256x256 portrait (BlazeFace's box centre in the portrait alone).
const PATHS = {
  'people-side.mp4': [(t) => 128 + 16 * Math.sin(t), (t) => 640 - 16 * Math.sin(t)],
  'people-swap.mp4': [(t) => 64 + 64 * t, (t) => 704 - 64 * t],
  'people-return.mp4': [() => 96, (t) => (t < 3 ? 672 : t < 4 ? 672 + 352 * (t - 3) : t < 6.5 ? 1100 : t < 7.5 ? 1024 - 352 * (t - 6.5) : 672)],
};
const FACE_CENTRE = [[129, 148], [112, 113]];
const TOLERANCE = 24;

/** findPeople on a sample video, with the time it took and the progress it reported. */
function find(name, options = {}) {
  return page.evaluate(async ([name, options]) => {
    const lib = await import('/pkg/faceswap_wasm.js');
    await lib.default();
    const blob = await (await fetch(`/samples/${name}`)).blob();
    const progress = [];
    const started = performance.now();
    const found = await lib.findPeople(blob, { ...options, onProgress: (p) => progress.push(p) });
    return { found, progress, ms: performance.now() - started };
  }, [name, options]);
}

/** Asserts each person is one portrait: every box where ffmpeg drew that portrait then. */
function assertFollowsPaths(name, people, expectedCount) {
  assert.equal(people.length, expectedCount, `${name}: ${people.length} people`);
  const portraits = people.map((person) => {
    const errors = PATHS[name].map((path, p) => Math.max(...person.boxes.map((box, i) => {
      const t = person.times[i];
      const centre = [(box[0] + box[2]) / 2, (box[1] + box[3]) / 2];
      return Math.hypot(centre[0] - (path(t) + FACE_CENTRE[p][0]), centre[1] - (128 + FACE_CENTRE[p][1]));
    })));
    const best = errors.indexOf(Math.min(...errors));
    assert.ok(errors[best] <= TOLERANCE, `${name}: a person's boxes stray ${errors[best].toFixed(1)} px from portrait ${best === 0 ? 1 : 3}'s path (${JSON.stringify(person.boxes)} at ${person.times})`);
    return best;
  });
  assert.deepEqual([...portraits].sort(), [...new Set(portraits)].sort(), `${name}: two people are the same portrait`);
  return portraits;
}

test('the people finder and its model are fetched on the first findPeople call only', async () => {
  await page.evaluate(async () => {
    const lib = await import('/pkg/faceswap_wasm.js');
    await lib.default();
    await lib.detectFaces(await (await fetch('/samples/portrait-1.png')).blob().then(createImageBitmap));
  });
  assert.ok(!requests.some((u) => u.includes('/pkg/detect/people')), 'nothing of the people finder for detectFaces');
});

test('two people side by side: two people, seen in all 20 samples, with distinct descriptors', async () => {
  const { found, progress, ms } = await find('people-side.mp4');
  console.log(`# people-side.mp4 (first call, model load included): ${ms.toFixed(0)} ms`);
  assert.ok(requests.some((u) => u.endsWith('/pkg/detect/people/face_recognition_model.bin')), 'the model was fetched');
  assert.equal(found.samples, 20);
  assert.deepEqual([found.width, found.height], [1024, 512]);
  assert.ok(Math.abs(found.duration - 10) < 0.1, `duration ${found.duration}`);
  assert.equal(progress.length, 20);
  assert.deepEqual(progress.map((p) => p.done), Array.from({ length: 20 }, (_, i) => i + 1));
  assert.ok(progress.every((p) => p.total === 20 && p.faces === 2), JSON.stringify(progress));
  assert.deepEqual(assertFollowsPaths('people-side.mp4', found.people, 2), [0, 1], 'left to right');
  for (const person of found.people) {
    assert.equal(person.times.length, 20);
    assert.equal(person.boxes.length, 20);
    assert.equal(person.descriptor.length, 128);
    assert.ok(person.times.includes(person.time));
    assert.deepEqual(person.box, person.boxes[person.times.indexOf(person.time)]);
  }
  const [a, b] = found.people.map((p) => p.descriptor);
  const distance = Math.hypot(...a.map((v, i) => v - b[i]));
  assert.ok(distance > 0.6, `the two people's descriptors are ${distance.toFixed(3)} apart`);
});

test("each person's descriptor is nearest their own portrait's", async () => {
  const distances = await page.evaluate(async () => {
    const lib = await import('/pkg/faceswap_wasm.js');
    await lib.default();
    const { people } = await lib.findPeople(await (await fetch('/samples/people-side.mp4')).blob());
    // The people finder's module itself, as its worker runs it, on each portrait alone.
    const raw = await import('/pkg/detect/people/faceswap_detect.js');
    await raw.default();
    const model = (name) => fetch(`/pkg/detect/people/${name}`);
    raw.peopleLoadModel(await (await model('face_recognition_model-weights_manifest.json')).text(), new Uint8Array(await (await model('face_recognition_model.bin')).arrayBuffer()));
    const portraits = [];
    for (const name of ['portrait-1.png', 'portrait-3.png', 'portrait-2.png']) {
      const bitmap = await createImageBitmap(await (await fetch(`/samples/${name}`)).blob());
      const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
      canvas.getContext('2d').drawImage(bitmap, 0, 0);
      portraits.push(raw.peopleDescribeImage(canvas.getContext('2d').getImageData(0, 0, bitmap.width, bitmap.height).data, bitmap.width, bitmap.height));
    }
    return people.map((person) => portraits.map((d) => Math.hypot(...person.descriptor.map((v, i) => v - d[i]))));
  });
  console.log(`# descriptor distances, person x (portrait 1, 3, 2): ${JSON.stringify(distances.map((row) => row.map((d) => +d.toFixed(3))))}`);
  // Person 1 is portrait 1, person 2 portrait 3; portrait 2 (not in the video) is nobody.
  for (const [person, own] of [[0, 0], [1, 1]]) {
    assert.ok(distances[person][own] < 0.6, `person ${person + 1} is ${distances[person][own]} from their portrait`);
    for (const other of [0, 1, 2].filter((p) => p !== own)) {
      assert.ok(distances[person][other] > distances[person][own] + 0.2, `person ${person + 1}: ${distances[person]}`);
    }
  }
});

test("the network gives face-api.js's own descriptors (TensorFlow.js, CPU backend) for the same faces", async () => {
  // face-api.js itself, from the devDependency, served under /face-api/ to this page only.
  const faceApi = join(root, 'node_modules', '@vladmandic', 'face-api');
  const check = await browser.newPage();
  await check.route('**/face-api/**', (route) => {
    const path = new URL(route.request().url()).pathname.replace(/^\/face-api\//, '');
    route.fulfill({ body: readFileSync(join(faceApi, path)), contentType: path.endsWith('.js') ? 'text/javascript' : 'application/octet-stream' });
  });
  try {
    await check.goto(`${proxy.url}/healthz`);
    const result = await check.evaluate(async () => {
      const faceapi = await import('/face-api/dist/face-api.esm.js');
      await faceapi.tf.setBackend('cpu');
      await faceapi.tf.ready();
      await faceapi.nets.faceRecognitionNet.loadFromUri('/face-api/model');
      const raw = await import('/pkg/detect/people/faceswap_detect.js');
      await raw.default();
      const model = (name) => fetch(`/pkg/detect/people/${name}`);
      raw.peopleLoadModel(await (await model('face_recognition_model-weights_manifest.json')).text(), new Uint8Array(await (await model('face_recognition_model.bin')).arrayBuffer()));
      const out = [];
      for (const name of ['portrait-1.png', 'portrait-2.png', 'astronaut.png']) {
        // The whole picture scaled to 150 x 150: the same pixels for both.
        const bitmap = await createImageBitmap(await (await fetch(`/samples/${name}`)).blob(), { resizeWidth: 150, resizeHeight: 150 });
        const canvas = document.createElement('canvas');
        canvas.width = 150;
        canvas.height = 150;
        canvas.getContext('2d').drawImage(bitmap, 0, 0);
        const theirs = Array.from(await faceapi.computeFaceDescriptor(canvas));
        const ours = Array.from(raw.peopleDescribeChip(canvas.getContext('2d').getImageData(0, 0, 150, 150).data));
        out.push({ name, worst: Math.max(...ours.map((v, i) => Math.abs(v - theirs[i]))), distance: Math.hypot(...ours.map((v, i) => v - theirs[i])), norm: Math.hypot(...theirs) });
      }
      return out;
    });
    console.log(`# ours vs face-api.js: ${JSON.stringify(result.map(({ name, worst, distance }) => ({ name, worst: +worst.toExponential(2), distance: +distance.toExponential(2) })))}`);
    for (const { name, worst, distance, norm } of result) {
      assert.ok(norm > 0.1, `${name}: face-api.js's descriptor is empty`);
      // Float sums in another order: about 3e-4 per value, 1e-3 in all (two people are 0.6 apart).
      assert.ok(worst < 1e-3 && distance < 5e-3, `${name}: ours differ from face-api.js's by ${worst} at worst, ${distance} in all`);
    }
  } finally {
    await check.close();
  }
});

test('each person has a crop of their own face, ready for buildRefInfo', async () => {
  const checked = await page.evaluate(async () => {
    const lib = await import('/pkg/faceswap_wasm.js');
    await lib.default();
    const blob = await (await fetch('/samples/people-side.mp4')).blob();
    const { people } = await lib.findPeople(blob);
    const out = [];
    for (const person of people) {
      const bytes = Uint8Array.from(atob(person.crop), (c) => c.charCodeAt(0));
      const bitmap = await createImageBitmap(new Blob([bytes], { type: 'image/jpeg' }));
      // The crop holds one face, about the size of the person's box.
      const faces = await lib.detectFaces(bitmap);
      out.push({ jpeg: bytes[0] === 0xff && bytes[1] === 0xd8, size: [bitmap.width, bitmap.height], box: person.box, faces: faces.boxes.length });
    }
    const client = new lib.FaceSwapClient();
    const faces = await Promise.all(['portrait-2.png', 'astronaut.png'].map(async (n) => (await fetch(`/samples/${n}`)).blob()));
    const refInfo = await client.buildRefInfo(people.map((p) => p.crop), faces);
    return { out, refInfo: refInfo.map((r) => r.faceRef === people[refInfo.indexOf(r)].crop) };
  });
  for (const { jpeg, size, box, faces } of checked.out) {
    assert.ok(jpeg, 'a JPEG');
    assert.equal(faces, 1);
    const side = box[2] - box[0];
    assert.ok(size[0] >= side && size[0] <= side * 1.5, `crop ${size} for a ${side} px face`);
  }
  assert.deepEqual(checked.refInfo, [true, true]);
});

test('two people who cross stay themselves', async () => {
  const { found } = await find('people-swap.mp4');
  const portraits = assertFollowsPaths('people-swap.mp4', found.people, 2);
  // Each is seen both before and after the crossing (around 5 s).
  for (const person of found.people) {
    assert.ok(person.times.some((t) => t < 3) && person.times.some((t) => t > 7), `${person.times}`);
  }
  assert.deepEqual(portraits, [0, 1]);
});

test('a person who leaves the frame and returns is one person', async () => {
  const { found } = await find('people-return.mp4');
  const portraits = assertFollowsPaths('people-return.mp4', found.people, 2);
  const leaver = found.people[portraits.indexOf(1)];
  assert.ok(leaver.times.some((t) => t < 3) && leaver.times.some((t) => t > 8), `portrait 3 seen at ${leaver.times}`);
  assert.ok(!leaver.times.some((t) => t > 4.3 && t < 6.4), `portrait 3 seen while out of the frame: ${leaver.times}`);
  assert.equal(found.people[portraits.indexOf(0)].times.length, 20);
});

test('options: maxPeople, samplesPerSecond, a video element; bad input names its field; abort', async () => {
  const result = await page.evaluate(async () => {
    const lib = await import('/pkg/faceswap_wasm.js');
    await lib.default();
    const video = document.createElement('video');
    video.src = '/samples/people-side.mp4';
    const one = await lib.findPeople(video, { maxPeople: 1, samplesPerSecond: 0.5 });
    const errors = [];
    for (const [source, options] of [[video, { samplesPerSecond: 0 }], [video, { maxPeople: 1.5 }], [42, {}], ['/samples/nothing.mp4', {}], [video, { onProgress: 'no' }]]) {
      try {
        await lib.findPeople(source, options);
        errors.push(null);
      } catch (e) {
        errors.push({ name: e.name, code: e.code, field: e.field });
      }
    }
    const controller = new AbortController();
    let abort = null;
    try {
      await lib.findPeople(video, { signal: controller.signal, onProgress: ({ done }) => { if (done === 2) controller.abort(); } });
    } catch (e) {
      abort = { code: e.code, name: e.name };
    }
    const again = await lib.findPeople(video, { samplesPerSecond: 1 });
    return { one: [one.people.length, one.samples], errors, abort, again: again.people.length, currentTime: video.currentTime };
  });
  assert.deepEqual(result.one, [1, 5]);
  assert.deepEqual(result.errors, [
    { name: 'FaceSwapError', code: 'invalid_parameter', field: 'samplesPerSecond' },
    { name: 'FaceSwapError', code: 'invalid_parameter', field: 'maxPeople' },
    { name: 'FaceSwapError', code: 'invalid_parameter', field: 'video' },
    { name: 'FaceSwapError', code: 'invalid_parameter', field: 'video' },
    { name: 'FaceSwapError', code: 'invalid_parameter', field: 'onProgress' },
  ]);
  assert.deepEqual(result.abort, { code: 'aborted', name: 'FaceSwapError' });
  assert.equal(result.again, 2, 'the worker is usable after an abort');
  assert.equal(result.currentTime, 0, "the caller's video is not moved");
});

test('every entry with the media helpers exports findPeople', async () => {
  const kinds = await page.evaluate(async () => {
    const out = {};
    for (const entry of ['faceswap_wasm', 'aifaceswap', 'piapi', 'aiphotocraft', 'acedata']) {
      out[entry] = typeof (await import(`/pkg/${entry}.js`)).findPeople;
    }
    return out;
  });
  assert.deepEqual(kinds, { faceswap_wasm: 'function', aifaceswap: 'function', piapi: 'function', aiphotocraft: 'function', acedata: 'function' });
});

test('no uncaught page errors', () => {
  assert.deepEqual(pageErrors, []);
});
