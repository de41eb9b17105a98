//! TypeScript types of the options and results every class shares, emitted into
//! `pkg/faceswap_wasm.d.ts`. Each provider's module declares its own request types and its
//! `ProviderClients` entry; a provider whose catalog declares its fields has its request types
//! checked against them here (a test fails when they drift).

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** Options of every client class's constructor (`new FaceSwapClient(options)`, `new PiApiClient(options)`, ...). */
export interface FaceSwapClientOptions {
  /** Where faceswap-proxy's API is mounted; default "/api". */
  baseUrl?: string;
  /** Time limit of each call in milliseconds; default 60000, and for a submit to a provider that may answer only when its result is made (AceData's synchronous delivery) its longest wait on top: 390000 for AceData. Given, it is every call's limit. */
  timeoutMs?: number;
  /** How many times a submit, upload or task read is tried again after a network error or a 429, 502, 503 or 504 answer (honouring Retry-After up to a minute, else backing off exponentially with jitter from 250 ms to 8 s); default 2, 0 for none, at most 10. Never after a validation error, another 4xx, an abort or the time limit. A retried submit keeps its Idempotency-Key, so it cannot spend twice. */
  retries?: number;
  /** Called before each request to the proxy (so it can refresh): the app's bearer token for the proxy's user authentication (sent as `Authorization: Bearer`), or a promise of it; null or undefined sends none. */
  getToken?: () => string | null | undefined | Promise<string | null | undefined>;
}

/** Options of each submit. */
export interface CallOptions {
  /** Aborts the call; it rejects with code "aborted". */
  signal?: AbortSignal;
  /** Makes a retried submit answer the first answer again without spending credits twice; generated when absent. */
  idempotencyKey?: string;
}

/** An image given as an absolute http(s) URL or as a Blob/File. */
export type ImageInput = string | Blob;
/** A video given as an absolute http(s) URL or as a Blob/File. */
export type VideoInput = string | Blob;
/** Enhancement level of video swaps. */
export type Enhance = 0 | 1 | 2;

/** `faceSwap`: put the face of `faceImage` onto `sourceImage`. */
export interface FaceSwapRequest { sourceImage: ImageInput; faceImage: ImageInput; }
/** `extractFace`: find the faces of `img`. */
export interface ExtractFaceRequest { img: ImageInput; }
/** `multiFaceSwap`: replace the faces at `index` with `faceImage`, pairwise; with any Blob, sent as the provider's multipart file form (one `face_image` file per face). */
export interface MultiFaceSwapRequest { sourceImage: ImageInput; faceImage: ImageInput[]; index: number[]; }
/** `videoFaceSwap`: put `faceImage` onto the faces of `sourceVideo`. */
export interface VideoFaceSwapRequest { sourceVideo: VideoInput; faceImage: ImageInput; duration: number; enhance?: Enhance; }
/** `extractBase64Face`: find the faces of a base64 image (plain, or with a data: prefix). */
export interface ExtractBase64FaceRequest { base64Img: string; }
/** One face of a multi-video swap: a base64 crop of the face in the video, and the new face. */
export interface RefInfo { faceRef: string; faceUrl: ImageInput; }
/** `multiVideoFaceSwap`: replace 1 to 3 faces of `sourceVideo`. */
export interface MultiVideoFaceSwapRequest { sourceVideo: VideoInput; refInfo: RefInfo[]; duration: number; enhance?: Enhance; }

/** A task started, by its id. */
export interface ProviderTaskCreated { taskId: string; }

/** Each provider this library speaks to, by id, with its client class: the module of each provider's class adds its own entry (a test checks that they are the registry's). */
export interface ProviderClients {}
/** The providers this library speaks to. */
export type ProviderId = keyof ProviderClients;
/** `swapFace`: the face of `face` onto the picture `target`, with any provider. */
export interface SwapFaceRequest { target: ImageInput; face: ImageInput; }
/** Options of `swapFace`: where the proxy is, and the call's options. */
export interface SwapFaceOptions extends FaceSwapClientOptions, CallOptions {}
/** A task `swapFace` started, to follow with that provider's client. */
export interface SwapFaceResult { provider: ProviderId; taskId: string; }

/** A face box `[x1, y1, x2, y2]` in pixels from the top-left corner. */
export type FaceBox = [number, number, number, number];
/** A submitted task. */
export interface TaskCreated { taskId: string; points: number; }
/** Faces found by `extractFace`, left to right. */
export interface ExtractedFaces { faces: FaceBox[]; points: number; }
/** Faces found by `extractBase64Face`, left to right. */
export interface ExtractedBase64Faces { pos: FaceBox[]; }
/** A stored file. */
export interface Uploaded { url: string; size: number; contentType: string; }

/** What a provider reported about a task's result file; each member only where reported. */
export interface ResultInfo { width?: number; height?: number; size?: number; }
/** Where a task stands. */
export type TaskStatus = 'pending' | 'succeeded' | 'failed' | 'timed_out';
/** A task as the proxy stores it. */
export interface Task {
  /** The provider's id (`aifaceswap`): the proxy's, or the client's when the proxy does not say. */
  provider: string;
  taskId: string;
  status: TaskStatus;
  type?: number;
  resultUrl?: string;
  /** Where the provider itself serves the result, when the proxy keeps its own copy
   * (`KEEP_RESULTS`): `resultUrl` is then the proxy's copy. */
  providerResultUrl?: string;
  /** What the provider reported about the result file, where it reported anything (AceData
   * reports all three): width and height in pixels, size as the provider counts it (bytes). */
  resultInfo?: ResultInfo;
  points?: number;
  /** What the proxy charged the spend cap for it, in the provider's unit. */
  cost?: Cost;
  /** Why the task failed, in the provider's words, where it said. */
  error?: string;
  createdAt: string;
  updatedAt: string;
}
/** Options of `waitForResult`. */
export interface WaitOptions {
  signal?: AbortSignal;
  /** Gives up after this many milliseconds (code "timeout"); default 7260000 (2 h 1 min: the proxy's default task deadline, after which it ends the task `timed_out`, and a minute); `Infinity` for no limit. A proxy with a longer `TASK_DEADLINE_MS` wants a longer `timeoutMs`. */
  timeoutMs?: number;
  /** Called with the task on each status change. */
  onStatus?: (task: Task) => void;
}

/** The `code` of every error the library rejects with. */
export type FaceSwapErrorCode =
  | 'invalid_parameter' | 'unauthorized' | 'forbidden' | 'not_found' | 'payload_too_large'
  | 'unsupported_media_type' | 'rate_limited' | 'spend_cap_exceeded' | 'idempotency_conflict'
  | 'upstream_error' | 'upstream_unavailable' | 'upstream_timeout' | 'internal'
  | 'network_error' | 'timeout' | 'aborted' | 'task_failed' | 'tainted_canvas';
/** Every rejection of the library is an Error of this shape. */
export interface FaceSwapError extends Error {
  name: 'FaceSwapError';
  code: FaceSwapErrorCode;
  /** The HTTP status, when the proxy answered. */
  status?: number;
  /** The input at fault, camelCase (`refInfo[1].faceRef`). */
  field?: string;
  /** The provider's own error code, when the proxy passed one on. */
  providerCode?: string;
  /** Seconds to wait before retrying (`rate_limited`). */
  retryAfter?: number;
  /** The task, for `task_failed` and task time-outs. */
  task?: Task;
}

/** Options of `captureFrame`. */
export interface CaptureOptions {
  /** Seconds into the video; the current time when absent. */
  time?: number;
  /** Encoding: "image/jpeg" (default), "image/png" or "image/webp". */
  type?: 'image/jpeg' | 'image/png' | 'image/webp';
  /** 0 to 1, for JPEG and WebP. */
  quality?: number;
  /** Scales the frame down to this width, keeping the aspect ratio. */
  maxWidth?: number;
}
/** A captured frame: plain base64 (no data: prefix), its size, and the presented frame's media time. */
export interface CapturedFrame { base64: string; width: number; height: number; time: number; }
/** Options of `cropFaces`. */
export interface CropOptions {
  /** Fraction of the box added on every side, clamped to the frame; default 0.2. */
  padding?: number;
  /** Grow the shorter side so every crop is square. */
  square?: boolean;
  type?: 'image/jpeg' | 'image/png' | 'image/webp';
  quality?: number;
}

/** What `detectFaces` can look at. */
export type DetectSource = ImageData | HTMLImageElement | HTMLVideoElement | HTMLCanvasElement | OffscreenCanvas | ImageBitmap | { base64: string } | string;
/** Options of `detectFaces`. */
export interface DetectOptions {
  /** Smallest face to answer, in pixels (at least 20; default 20): smaller boxes are dropped. */
  minFaceSize?: number;
  /** Score a face needs, 0 to 1 (default 0.5, MediaPipe's; higher finds fewer, surer faces). */
  threshold?: number;
  /** Also answer each face's six keypoints (default false). */
  keypoints?: boolean;
  /** Also look for faces smaller than about 6% of the frame's longer side (group photos) with rustface, frontal only: loads a second, larger module once and takes about 4 times as long (default false). */
  smallFaces?: boolean;
}
/** A face's keypoints `[x, y]` in pixels: right eye, left eye, nose tip, mouth centre, right ear, left ear (the person's right). */
export type FaceKeypoints = [number, number][];
/** Faces found in the browser: boxes `[x1, y1, x2, y2]` left to right (ready for `cropFaces`), their scores (0 to 1), and with `{ keypoints: true }` their keypoints (null for a face only `smallFaces` found). */
export interface DetectedFaces { boxes: FaceBox[]; scores: number[]; keypoints?: (FaceKeypoints | null)[]; }
/** Progress of `findPeople`: after each sample, how many are `done` of `total`, the sample's `time` (seconds) and how many `faces` it holds. */
export interface PeopleProgress { done: number; total: number; time: number; faces: number; }
/** Options of `findPeople`. */
export interface FindPeopleOptions {
  /** Frames sampled per second of video (above 0, at most 30; default 2). */
  samplesPerSecond?: number;
  /** Most people to answer, those seen in most samples (1 to 100; default 10). */
  maxPeople?: number;
  /** Score a face needs, 0 to 1 (default 0.5, as `detectFaces`). */
  threshold?: number;
  /** Called after each sample. */
  onProgress?: (progress: PeopleProgress) => void;
  /** Ends the call with a `FaceSwapError` whose `code` is `'aborted'`. */
  signal?: AbortSignal;
}
/** One person `findPeople` found. */
export interface FoundPerson {
  /** The best view of the face (large, frontal, sharp), padded as `cropFaces` pads: plain base64 JPEG, ready for `buildRefInfo`. */
  crop: string;
  /** The face's box `[x1, y1, x2, y2]` in the video's pixels in the best view. */
  box: FaceBox;
  /** When the best view is, in seconds. */
  time: number;
  /** Every sample the person is seen in, in seconds. */
  times: number[];
  /** The face's box in each of those samples. */
  boxes: FaceBox[];
  /** The face recognition network's 128 values for the best view: two views of one person lie closer than about 0.6 (Euclidean distance). */
  descriptor: number[];
}
/** What `findPeople` resolves: the people in the order they first appear (left to right when together), how many frames it sampled, and the video's duration (seconds) and size. */
export interface FoundPeople { people: FoundPerson[]; samples: number; duration: number; width: number; height: number; }

/** Operation names accepted by `estimateCredits`. */
export type OperationName =
  | 'faceSwap' | 'extractFace' | 'multiFaceSwap' | 'videoFaceSwap' | 'extractBase64Face' | 'multiVideoFaceSwap'
  | 'faceswap' | 'extract_face' | 'multi_faceswap' | 'video_faceswap' | 'extract_base64_face' | 'multi_video_faceswap';
/** What decides a price; a request object can be passed as is. */
export interface PriceParams { duration?: number; enhance?: Enhance; refInfo?: readonly unknown[]; }

/** The unit a provider prices in. */
export type CostUnit = 'credits' | 'usd' | 'requests';
/** A price: `amount` of `unit`. */
export interface Cost { amount: number; unit: CostUnit; }
/** What `estimateCost` reads; a request object can be passed as is. What a price depends on and has no default is required (aifaceswap's video `duration`, its multi-video `refInfo`); other absent values take the operation's default. */
export interface CostParams {
  /** Video length in seconds. */
  duration?: number;
  /** Enhancement level. */
  enhance?: number;
  /** Number of faces replaced; `refInfo.length` when absent. */
  faces?: number;
  refInfo?: readonly unknown[];
  /** Number of video frames, where a provider prices by frame. */
  frames?: number;
}
"#;

#[cfg(test)]
mod tests {
    use crate::error::ErrorCode;
    use alloc::{borrow::ToOwned, format, string::String, vec::Vec};

    /// The quoted words of the union `declaration` (`export type X =`) in this file's TypeScript
    /// section.
    fn union_words(declaration: &str) -> Vec<String> {
        let source = include_str!("types.rs");
        let start = source.find(declaration).expect("the union is declared");
        let union = &source[start..];
        let union = &union[..union.find(';').expect("the union ends")];
        union
            .split('\'')
            .skip(1)
            .step_by(2)
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn the_typescript_union_lists_exactly_the_error_codes() {
        let mut declared = union_words("export type FaceSwapErrorCode =");
        let mut codes: Vec<String> = ErrorCode::all().map(|c| c.as_str().to_owned()).collect();
        declared.sort();
        codes.sort();
        assert_eq!(declared, codes);
    }

    /// Every `export interface ProviderClients { id: Class; }` entry in the library's sources.
    fn declared_clients(dir: &std::path::Path, found: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).expect("src/ is readable") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                declared_clients(&path, found);
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let marker = "export interface ProviderClients { ";
            for line in text.lines().filter(|line| line.starts_with(marker)) {
                let body = line[marker.len()..].trim_end_matches("; }");
                let (id, class) = body.split_once(": ").expect("id: Class");
                found.push((id.to_owned(), class.to_owned()));
            }
        }
    }

    /// Every source file's text under `dir`.
    fn sources(dir: &std::path::Path, found: &mut String) {
        for entry in std::fs::read_dir(dir).expect("src/ is readable") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                sources(&path, found);
            } else {
                found.push_str(&std::fs::read_to_string(&path).unwrap_or_default());
            }
        }
    }

    /// The request type of every operation a provider declares the fields of, as the catalog
    /// says it: `export interface {Class without "Client"}{JsName}Request { field: Type; ... }`.
    fn declared_request_types() -> Vec<String> {
        use faceswap_core::provider::FieldKind;
        let mut types = Vec::new();
        for entry in faceswap_core::registry::CATALOG {
            if entry.check.is_none() {
                continue;
            }
            let prefix = entry.client_class.trim_end_matches("Client");
            for operation in entry.operations {
                let mut fields = String::new();
                for field in operation.fields {
                    let ts = match field.kind {
                        FieldKind::Image => "ImageInput",
                        FieldKind::Video => "VideoInput",
                        FieldKind::Number => "number",
                        FieldKind::Text => "string",
                    };
                    let optional = if field.required { "" } else { "?" };
                    let name = crate::error::camel_case_path(field.wire);
                    fields.push_str(&format!("{name}{optional}: {ts}; "));
                }
                let js = operation.js_name;
                let capitalised = format!("{}{}", js[..1].to_ascii_uppercase(), &js[1..]);
                types.push(format!(
                    "export interface {prefix}{capitalised}Request {{ {fields}}}"
                ));
            }
        }
        types
    }

    #[test]
    fn declared_fields_and_their_request_types_agree() {
        let mut text = String::new();
        sources(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut text,
        );
        let declared = declared_request_types();
        assert!(!declared.is_empty(), "AceData declares its fields");
        for expected in declared {
            assert!(
                text.lines().any(|line| line == expected),
                "the TypeScript of a declared operation drifted from its catalog: {expected}"
            );
        }
    }

    #[test]
    fn the_provider_ids_and_classes_are_exactly_the_catalogs() {
        let mut declared = Vec::new();
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        declared_clients(&src, &mut declared);
        if !cfg!(feature = "example-provider") {
            // Its module (and its declaration) is compiled only with the feature.
            declared.retain(|(id, _)| id != "example");
        }
        declared.sort();
        let mut registered: Vec<(String, String)> = faceswap_core::registry::CATALOG
            .iter()
            .map(|entry| (entry.id().to_owned(), entry.client_class.to_owned()))
            .collect();
        registered.sort();
        assert_eq!(declared, registered);
    }
}
