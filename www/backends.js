// The providers the demo's photo, group photo and video flows can run on, as `GET /api/config`
// describes them: each provider's client class (`client`), cost unit (`costUnit`), one-face swap
// (`swapFace`: the operation and its two fields) and operations (`operations`,
// `operationDetails`). Nothing here names a provider: a provider added to the registry shows in
// the picker as soon as the proxy serves it and the package exports its class.
//
// The flows speak one set of terms (sourceImage, faceImage, sourceVideo); a backend turns them into
// its class's request with the fields the config names, and names its errors' fields in the
// flows' terms again, so each error still shows next to the input at fault. The group photo and
// video flows are keyed by operation: `multiFaceSwap` (all faces in one task when its face field
// repeats, else one task per face), `swap1From2` (the two faces of a two-person photo) and
// `videoFaceSwap`. A backend without such an operation (`groupSwap: null`) tells its flow so.
import * as lib from '/pkg/faceswap_wasm.js';

const { estimateCost } = lib;

/** Runs `work`, renaming a rejection's field by `fields` (a class's names to the flows'). */
async function renamed(fields, work) {
  try {
    return await work();
  } catch (e) {
    if (e && fields[e.field]) e.field = fields[e.field];
    throw e;
  }
}

/** `face_image` as the library's requests name it: `faceImage`. */
const camel = (name) => name.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());

/** Prices `operation` on provider `id` in its own unit (`2 credits`, `$0.01`, `1 request`). */
function priceIn(id) {
  return (operation, params) => {
    try {
      const { amount, unit } = estimateCost(id, operation, params);
      if (unit === 'usd') return `$${amount}`;
      return `${amount} ${amount === 1 ? unit.replace(/s$/, '') : unit}`;
    } catch {
      return 'an amount this build cannot price';
    }
  };
}

/** An error shaped like the library's, for a choice a provider cannot run. */
function refusal(message, field) {
  return Object.assign(new Error(message), { name: 'FaceSwapError', code: 'invalid_parameter', field });
}

/** Submits, then waits for the task; resolves the finished task. */
async function submitAndWait(client, submit, { signal, onStatus }) {
  const { taskId } = await submit({ signal });
  return client.waitForResult(taskId, { signal, onStatus });
}

/** The providers of a config the flows can run on: a one-face swap and a class in the package. */
export function runnable(providers) {
  return providers.filter((p) => p.swapFace && typeof lib[p.client] === 'function');
}

/** The backend of `provider`, one entry of `/api/config`'s `providers`. */
export function backendFor(provider, options) {
  const { id, swapFace } = provider;
  const client = new lib[provider.client](options);
  const has = (operation) => (provider.operations ?? []).includes(operation);
  const detail = (operation) => (provider.operationDetails ?? []).find((d) => d.jsName === operation);
  const price = priceIn(id);
  const { target, face } = swapFace;
  /** The class's video field: the swap's target field for a video (`sourceVideo`). */
  const videoTarget = target.replace(/Image$/, 'Video');
  const flowFields = { [videoTarget]: 'sourceVideo', [target]: 'sourceImage', [face]: 'faceImage' };
  const videoEnhance = has('videoFaceSwap')
    && price('videoFaceSwap', { duration: 10, enhance: 0 }) !== price('videoFaceSwap', { duration: 10, enhance: 2 });

  let groupSwap = null;
  let groupPrice = () => '';
  const multi = detail('multiFaceSwap');
  if (multi && multi.repeatedFields?.length) {
    // All chosen faces in one task: the face field and the face indexes repeat.
    const [faces, indexes] = multi.repeatedFields.map(camel);
    groupPrice = () => price('multiFaceSwap', {});
    groupSwap = ({ sourceImage, faces: chosen }, wait) => renamed(flowFields, () =>
      submitAndWait(client, (o) => client.multiFaceSwap({
        [target]: sourceImage,
        [faces]: chosen.map((f) => f.image),
        [indexes]: chosen.map((f) => f.index),
      }, o), wait));
  } else if (multi) {
    // One image's first face onto one chosen face, one swap after the other, each on the
    // previous result.
    groupPrice = () => `${price('multiFaceSwap', {})} per chosen face`;
    groupSwap = ({ sourceImage, faces: chosen }, wait) => renamed(flowFields, async () => {
      let picture = sourceImage;
      let task = null;
      for (const { index, image } of chosen) {
        task = await submitAndWait(client, (o) => client.multiFaceSwap({
          [target]: picture, [face]: image, swapFacesIndex: [0], targetFacesIndex: [index],
        }, o), wait);
        picture = task.resultUrl;
      }
      return task;
    });
  } else if (has('swap1From2')) {
    // swap1From2 puts two single faces onto the two faces of a photo, left to right.
    groupPrice = () => `${price('swap1From2', {})} for both faces`;
    groupSwap = ({ sourceImage, faces: chosen }, wait) => {
      if (chosen.length !== 2) {
        return Promise.reject(refusal(`${id} replaces both faces of a two-person photo: choose both faces.`, 'sourceImage'));
      }
      return renamed({ srcImage: 'sourceImage', targetImage1: 'faceImage', targetImage2: 'faceImage' }, () =>
        submitAndWait(client, (o) => client.swap1From2({
          srcImage: sourceImage, targetImage1: chosen[0].image, targetImage2: chosen[1].image,
        }, o), wait));
    };
  }

  return {
    id,
    client,
    /** Faces found by the provider, or null when the provider cannot. */
    extractFace: has('extractFace') ? (img) => client.extractFace({ img }) : null,
    extractFaceLabel: `Find faces with the API (${price('extractFace', {})})`,
    price: (operation, params) => price(operation === 'faceSwap' ? swapFace.operation : operation, params),
    groupPrice,
    videoEnhance,
    faceSwap: ({ sourceImage, faceImage }, wait) => renamed(flowFields, () =>
      submitAndWait(client, (o) => client[swapFace.operation]({ [target]: sourceImage, [face]: faceImage }, o), wait)),
    groupSwap,
    videoSwap: has('videoFaceSwap')
      ? ({ sourceVideo, faceImage, duration, enhance }, wait) => renamed(flowFields, () =>
        submitAndWait(client, (o) => client.videoFaceSwap({
          [videoTarget]: sourceVideo, [face]: faceImage, duration, ...(videoEnhance ? { enhance } : {}),
        }, o), wait))
      : null,
  };
}
