// The per-provider entries' types, compiled with `tsc --noEmit` in `npm test`: each entry
// declares its own class and only its own provider id.
import initPiapi, { PiApiClient, estimateCost, type ProviderId, type PiApiTaskCreated } from '../../pkg/piapi.js';
// @ts-expect-error: swapFace (switching providers) is the package root's; an entry has one provider.
import { swapFace } from '../../pkg/piapi.js';
// @ts-expect-error: the object that steps a call (src/drive.rs) is the library's own, not the API.
import type { Run } from '../../pkg/piapi.js';
// @ts-expect-error: nor the package root's.
import type { Run as RootRun } from '../../pkg/faceswap_wasm.js';
import initAceData, { AceDataClient, type ProviderTaskCreated } from '../../pkg/acedata.js';

export async function onePerEntry(photo: Blob, face: Blob): Promise<string[]> {
  await initPiapi();
  await initAceData();
  const piapi: ProviderId = 'piapi';
  // @ts-expect-error: the PiAPI entry has no other provider.
  const other: ProviderId = 'aifaceswap';
  const created: PiApiTaskCreated = await new PiApiClient().faceSwap({ targetImage: photo, swapImage: face });
  const price = estimateCost('piapi', 'faceSwap');
  const ace: ProviderTaskCreated = await new AceDataClient().faceSwap({ sourceImageUrl: face, targetImageUrl: photo, timeout: 60 });
  return [created.taskId, String(price.amount), ace.taskId, String(other), String(piapi), typeof swapFace];
}

// Used, so that only their absence can fail the imports above.
export type NotExported = [Run, RootRun];
