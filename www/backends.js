// The providers the demo's photo, group photo and video flows can run on, each through its client
// class: aifaceswap through FaceSwapClient, PiAPI through PiApiClient. The flows speak
// FaceSwapClient's terms (sourceImage, faceImage, sourceVideo); a backend turns them into its
// class's request and names its errors' fields in the flows' terms again, so each error still
// shows next to the input at fault.
import { FaceSwapClient, PiApiClient, estimateCost, estimateCredits } from '/pkg/faceswap_wasm.js';

/** The providers a flow can run on, in the order the picker offers them. */
export const RUNNABLE = ['aifaceswap', 'piapi'];

/** PiApiClient's fields in the flows' terms. */
const PIAPI_FIELDS = { targetImage: 'sourceImage', swapImage: 'faceImage', targetVideo: 'sourceVideo' };

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
  const renamed = async (work) => {
    try {
      return await work();
    } catch (e) {
      if (e && PIAPI_FIELDS[e.field]) e.field = PIAPI_FIELDS[e.field];
      throw e;
    }
  };
  return {
    id: 'piapi',
    client,
    extractFace: null,
    price: (operation, params) => {
      try {
        const { amount } = estimateCost('piapi', operation, params);
        return `$${amount}`;
      } catch {
        return 'an amount this build cannot price';
      }
    },
    faceSwap: ({ sourceImage, faceImage }, wait) => renamed(() =>
      submitAndWait(client, (o) => client.faceSwap({ targetImage: sourceImage, swapImage: faceImage }, o), wait)),
    // PiAPI swaps the faces of one image into another: each chosen face gets the first face of
    // its new image, one swap after the other, each on the previous result.
    groupSwap: ({ sourceImage, faces }, wait) => renamed(async () => {
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
    videoSwap: ({ sourceVideo, faceImage, duration }, wait) => renamed(() =>
      submitAndWait(client, (o) => client.videoFaceSwap({ targetVideo: sourceVideo, swapImage: faceImage, duration }, o), wait)),
  };
}

/** The backend of provider `id` (aifaceswap for any id without a class here). */
export function backendFor(id, options) {
  return id === 'piapi' ? piapi(options) : aifaceswap(options);
}

/** The ids among `providers` (from `/api/config`) that the flows can run on, in RUNNABLE order. */
export function runnableIds(providers) {
  const listed = new Set(providers.map((p) => p.id));
  return RUNNABLE.filter((id) => listed.has(id));
}
