// The providers the demo's photo, group photo and video flows can run on, each through its client
// class: FaceSwapClient (aifaceswap), PiApiClient, AiPhotoCraftClient and AceDataClient. The flows
// speak FaceSwapClient's terms (sourceImage, faceImage, sourceVideo); a backend turns them into its
// class's request and names its errors' fields in the flows' terms again, so each error still
// shows next to the input at fault. A backend without an operation (`groupSwap: null`) tells its
// flow so.
import {
  AceDataClient, AiPhotoCraftClient, FaceSwapClient, PiApiClient, estimateCost, estimateCredits,
} from '/pkg/faceswap_wasm.js';

/** The providers a flow can run on, in the order the picker offers them. */
export const RUNNABLE = ['aifaceswap', 'piapi', 'aiphotocraft', 'acedata'];

/** PiApiClient's fields in the flows' terms. */
const PIAPI_FIELDS = { targetImage: 'sourceImage', swapImage: 'faceImage', targetVideo: 'sourceVideo' };
/** AiPhotoCraftClient's fields in the flows' terms. */
const AIPHOTOCRAFT_FIELDS = { targetImage: 'sourceImage', srcImage: 'faceImage' };
/** AceDataClient's fields in the flows' terms. */
const ACEDATA_FIELDS = { targetImageUrl: 'sourceImage', sourceImageUrl: 'faceImage' };

/** Runs `work`, renaming a rejection's field by `fields` (a class's names to the flows'). */
async function renamed(fields, work) {
  try {
    return await work();
  } catch (e) {
    if (e && fields[e.field]) e.field = fields[e.field];
    throw e;
  }
}

/**
 * Prices a flow's operation (`faceSwap`, ...) on provider `id` in its own unit (`$0.01`,
 * `1 request`); `own` names the provider's operation where it differs (AIPhotoCraft's basicSwap).
 */
function priceIn(id, own = {}) {
  return (operation, params) => {
    try {
      const { amount, unit } = estimateCost(id, own[operation] ?? operation, params);
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

/** aifaceswap, exactly as the flows ran before there was a choice. */
function aifaceswap(options) {
  const client = new FaceSwapClient(options);
  return {
    id: 'aifaceswap',
    client,
    /** Faces found by the provider (2 credits), or null when the provider cannot. */
    extractFace: (img) => client.extractFace({ img }),
    extractFaceLabel: 'Find faces with the API (2 credits)',
    price: (operation, params) => `${estimateCredits(operation, params)} credits`,
    groupPrice: () => `${estimateCredits('multiFaceSwap', {})} credits`,
    faceSwap: ({ sourceImage, faceImage }, wait) =>
      submitAndWait(client, (o) => client.faceSwap({ sourceImage, faceImage }, o), wait),
    groupSwap: ({ sourceImage, faces }, wait) =>
      submitAndWait(client, (o) => client.multiFaceSwap({
        sourceImage,
        faceImage: faces.map((f) => f.image),
        index: faces.map((f) => f.index),
      }, o), wait),
    videoSwap: ({ sourceVideo, faceImage, duration, enhance }, wait) =>
      submitAndWait(client, (o) => client.videoFaceSwap({ sourceVideo, faceImage, duration, enhance }, o), wait),
  };
}

/** PiAPI: errors renamed to the flows' fields; prices in US dollars. */
function piapi(options) {
  const client = new PiApiClient(options);
  const price = priceIn('piapi');
  return {
    id: 'piapi',
    client,
    extractFace: null,
    price,
    groupPrice: () => `${price('multiFaceSwap', {})} per chosen face`,
    faceSwap: ({ sourceImage, faceImage }, wait) => renamed(PIAPI_FIELDS, () =>
      submitAndWait(client, (o) => client.faceSwap({ targetImage: sourceImage, swapImage: faceImage }, o), wait)),
    // PiAPI swaps the faces of one image into another: each chosen face gets the first face of
    // its new image, one swap after the other, each on the previous result.
    groupSwap: ({ sourceImage, faces }, wait) => renamed(PIAPI_FIELDS, async () => {
      let target = sourceImage;
      let task = null;
      for (const { index, image } of faces) {
        task = await submitAndWait(client, (o) => client.multiFaceSwap({
          targetImage: target, swapImage: image, swapFacesIndex: [0], targetFacesIndex: [index],
        }, o), wait);
        target = task.resultUrl;
      }
      return task;
    }),
    videoSwap: ({ sourceVideo, faceImage, duration }, wait) => renamed(PIAPI_FIELDS, () =>
      submitAndWait(client, (o) => client.videoFaceSwap({ targetVideo: sourceVideo, swapImage: faceImage, duration }, o), wait)),
  };
}

/** AIPhotoCraft: basicSwap for a photo; a two-person photo's both faces by swap1From2; no video. */
function aiphotocraft(options) {
  const client = new AiPhotoCraftClient(options);
  const price = priceIn('aiphotocraft', { faceSwap: 'basicSwap' });
  return {
    id: 'aiphotocraft',
    client,
    extractFace: null,
    price,
    groupPrice: () => `${price('swap1From2', {})} for both faces`,
    faceSwap: ({ sourceImage, faceImage }, wait) => renamed(AIPHOTOCRAFT_FIELDS, () =>
      submitAndWait(client, (o) => client.basicSwap({ srcImage: faceImage, targetImage: sourceImage }, o), wait)),
    // swap1From2 puts two single faces onto the two faces of a photo, left to right.
    groupSwap: ({ sourceImage, faces }, wait) => {
      if (faces.length !== 2) {
        return Promise.reject(refusal('AIPhotoCraft replaces both faces of a two-person photo: choose both faces.', 'sourceImage'));
      }
      return renamed({ srcImage: 'sourceImage', targetImage1: 'faceImage', targetImage2: 'faceImage' }, () =>
        submitAndWait(client, (o) => client.swap1From2({
          srcImage: sourceImage, targetImage1: faces[0].image, targetImage2: faces[1].image,
        }, o), wait));
    },
    videoSwap: null,
  };
}

/** AceData: one face onto one photo; no group photo, no video. */
function acedata(options) {
  const client = new AceDataClient(options);
  return {
    id: 'acedata',
    client,
    extractFace: null,
    price: priceIn('acedata'),
    groupPrice: () => '',
    faceSwap: ({ sourceImage, faceImage }, wait) => renamed(ACEDATA_FIELDS, () =>
      submitAndWait(client, (o) => client.faceSwap({ sourceImageUrl: faceImage, targetImageUrl: sourceImage }, o), wait)),
    groupSwap: null,
    videoSwap: null,
  };
}

/** The backend of provider `id` (aifaceswap for any id without a class here). */
export function backendFor(id, options) {
  const make = { piapi, aiphotocraft, acedata }[id] ?? aifaceswap;
  return make(options);
}

/** The ids among `providers` (from `/api/config`) that the flows can run on, in RUNNABLE order. */
export function runnableIds(providers) {
  const listed = new Set(providers.map((p) => p.id));
  return RUNNABLE.filter((id) => listed.has(id));
}
