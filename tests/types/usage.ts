// A typed usage example of the package, compiled with `tsc --noEmit` in `npm test`: every option
// and result has a precise type, and mistakes fail to compile (see the @ts-expect-error lines).
import init, {
  estimateCost,
  estimateCredits,
  FaceSwapClient,
  PiApiClient,
  AiPhotoCraftClient,
  AceDataClient,
  swapFace,
  findPeople,
  type FoundPerson,
  type ProviderId,
  type Cost,
  type ExtractedFaces,
  type FaceSwapError,
  type PiApiTaskCreated,
  type Task,
  type TaskCreated,
} from '../../pkg/faceswap_wasm.js';

export async function swapEveryWay(photo: Blob, face: File, video: Blob, faceRef: string): Promise<string[]> {
  await init();
  const client = new FaceSwapClient({ baseUrl: '/api', timeoutMs: 30_000 });
  const controller = new AbortController();

  const created: TaskCreated = await client.faceSwap({ sourceImage: photo, faceImage: face }, { signal: controller.signal });
  const task: Task = await client.waitForResult(created.taskId, {
    timeoutMs: 120_000,
    onStatus: (t) => console.log(t.status, t.updatedAt),
  });

  const faces: ExtractedFaces = await client.extractFace({ img: 'https://cdn.example/group.jpg' });
  const [x1, y1, x2, y2] = faces.faces[0];
  console.log(x2 - x1, y2 - y1, faces.points);

  const multi = await client.multiFaceSwap(
    { sourceImage: 'https://cdn.example/group.jpg', faceImage: [face, 'https://cdn.example/b.jpg'], index: [0, 2] },
    { idempotencyKey: 'order-42' },
  );
  const video1 = await client.videoFaceSwap({ sourceVideo: video, faceImage: face, duration: 3, enhance: 1 });
  const { pos } = await client.extractBase64Face({ base64Img: faceRef });
  const video2 = await client.multiVideoFaceSwap({
    sourceVideo: 'https://cdn.example/clip.mp4',
    refInfo: pos.map(() => ({ faceRef, faceUrl: face })),
    duration: 3,
  });
  const uploaded = await client.upload(face);
  const credits: number = estimateCredits('multiVideoFaceSwap', { duration: 3, refInfo: pos });
  const cost: Cost = estimateCost('aifaceswap', 'videoFaceSwap', { duration: 3, enhance: 1 });
  console.log(cost.amount, cost.unit === 'credits', task.provider, task.cost?.unit);

  try {
    await client.waitForResult(video2.taskId);
  } catch (e) {
    const err = e as FaceSwapError;
    if (err.code === 'task_failed' && err.task) console.log(err.task.status, err.field, err.status, err.providerCode);
  }

  // @ts-expect-error enhance is 0, 1 or 2
  await client.videoFaceSwap({ sourceVideo: video, faceImage: face, duration: 3, enhance: 3 });
  // @ts-expect-error faceImage is required
  await client.faceSwap({ sourceImage: photo });
  // @ts-expect-error a cost's unit is one of three words
  const unit: 'points' = cost.unit;
  // @ts-expect-error index holds numbers
  await client.multiFaceSwap({ sourceImage: photo, faceImage: [face], index: ['0'] });

  return [task.resultUrl ?? '', unit, multi.taskId, video1.taskId, uploaded.contentType, String(credits)];
}

export async function swapOnPiApi(photo: Blob, face: File, video: Blob): Promise<string[]> {
  await init();
  const piapi = new PiApiClient({ baseUrl: '/api', timeoutMs: 30_000 });
  const created: PiApiTaskCreated = await piapi.faceSwap({ targetImage: photo, swapImage: 'https://cdn.example/face.png' });
  const done: Task = await piapi.waitForResult(created.taskId, { onStatus: (t) => console.log(t.status) });
  const multi = await piapi.multiFaceSwap(
    { targetImage: 'https://cdn.example/group.jpg', swapImage: face, swapFacesIndex: [0, 1], targetFacesIndex: '1,0' },
    { idempotencyKey: 'order-43' },
  );
  const clip = await piapi.videoFaceSwap({ targetVideo: video, swapImage: face, duration: 4 });
  const chosen = await piapi.videoFaceSwap({ targetVideo: video, swapImage: face, swapFacesIndex: '0', targetFacesIndex: [1] });
  const uploaded = await piapi.upload(face);
  const dollars: Cost = estimateCost('piapi', 'videoFaceSwap', { duration: 4 });

  // @ts-expect-error PiAPI's requests name targetImage and swapImage
  await piapi.faceSwap({ sourceImage: photo, faceImage: face });
  // @ts-expect-error multiFaceSwap needs both indexes
  await piapi.multiFaceSwap({ targetImage: photo, swapImage: face, swapFacesIndex: [0] });
  // @ts-expect-error a faces index holds numbers
  await piapi.multiFaceSwap({ targetImage: photo, swapImage: face, swapFacesIndex: [true], targetFacesIndex: [0] });
  // @ts-expect-error the video's indexes go together
  await piapi.videoFaceSwap({ targetVideo: video, swapImage: face, swapFacesIndex: [0] });

  return [done.resultUrl ?? '', multi.status, clip.taskId, chosen.taskId, uploaded.url, String(dollars.amount)];
}

export async function swapOnAiPhotoCraftAndAceData(couple: Blob, face: File, provider: ProviderId): Promise<string[]> {
  await init();
  const craft = new AiPhotoCraftClient();
  const basic = await craft.basicSwap({ srcImage: face, targetImage: couple, enhance: true });
  const crossed = await craft.coupleSwap({ srcImage: couple, targetImage: 'https://cdn.example/couple.jpg', swapIndex: [1, 0] });
  const kept = await craft.coupleSwap({ srcImage: couple, targetImage: couple, swapIndex: '0,1' });
  const two = await craft.swap1From2({ srcImage: couple, targetImage1: face, targetImage2: face });
  const same = await craft.swapFaceSameImage({ srcImage: couple });
  const done: Task = await craft.waitForResult(same.taskId);
  const width: number | undefined = done.resultInfo?.width;
  const requests: Cost = estimateCost('aiphotocraft', 'basicSwap', {});

  const acedata = new AceDataClient({ timeoutMs: 180_000 });
  const swapped = await acedata.faceSwap({ sourceImageUrl: face, targetImageUrl: 'https://cdn.example/photo.jpg', timeout: 120 });
  const anywhere = await swapFace(provider, { target: couple, face }, { baseUrl: '/api', signal: AbortSignal.timeout(60_000) });

  // @ts-expect-error swapIndex is a pair or a string, not a single number
  await craft.coupleSwap({ srcImage: couple, targetImage: couple, swapIndex: 1 });
  // @ts-expect-error swap1From2 needs both single faces
  await craft.swap1From2({ srcImage: couple, targetImage1: face });
  // @ts-expect-error AceData's fields are sourceImageUrl and targetImageUrl
  await acedata.faceSwap({ sourceImage: face, targetImage: couple });
  // @ts-expect-error swapFace knows four providers
  await swapFace('fal', { target: couple, face });

  return [basic.taskId, crossed.taskId, kept.taskId, two.taskId, done.status, requests.unit, swapped.taskId, anywhere.provider, String(width)];
}

/** The people of a video, swapped with new faces: findPeople's crops go to buildRefInfo as they are. */
export async function swapThePeople(video: Blob, newFaces: Blob[], signal: AbortSignal): Promise<string> {
  await init();
  const { people, samples } = await findPeople(video, { samplesPerSecond: 2, maxPeople: 3, signal, onProgress: ({ done, total }) => console.log(done / total) });
  const first: FoundPerson | undefined = people[0];
  const seen: number = first ? first.times.length + first.box[0] + first.descriptor.length + samples : 0;
  const client = new FaceSwapClient();
  const refInfo = await client.buildRefInfo(people.map((p) => p.crop), newFaces);
  // @ts-expect-error samplesPerSecond is a number
  await findPeople(video, { samplesPerSecond: 'fast' });
  const { taskId } = await client.multiVideoFaceSwap({ sourceVideo: video, refInfo, duration: 10 });
  return `${taskId} ${seen}`;
}
