// A typed usage example of the package, compiled with `tsc --noEmit` in `npm test`: every option
// and result has a precise type, and mistakes fail to compile (see the @ts-expect-error lines).
import init, {
  estimateCost,
  estimateCredits,
  FaceSwapClient,
  type Cost,
  type ExtractedFaces,
  type FaceSwapError,
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
