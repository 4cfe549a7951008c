// The GraphQL operations the page uses, over the official SAM 2 demo schema.

import { ApiError, errorFromResponse, fetchOrExplain, isExpiredMessage } from './errors';
import type { RleMask } from '../lib/rle';

export interface Video {
  id: string;
  path: string;
  posterPath: string | null;
  url: string;
  posterUrl: string | null;
  width: number;
  height: number;
  /** sam2c: what the page shows as the video's name (an upload's original file name). */
  title?: string;
}

export interface ModelInfo {
  /** The configuration name (GET /ready's "model"): sam2.1_hiera_t, edgetam, ... */
  name: string;
  /** What the page shows: SAM 2.1 tiny, EdgeTAM, ... (named by the server). */
  displayName: string;
  parameters: number;
}

export interface FrameMasks {
  frameIndex: number;
  rleMaskList: { objectId: number; rleMask: RleMask }[];
}

const VIDEO_FIELDS = `fragment PageVideo on Video { id path posterPath url posterUrl width height title }`;
const FRAME_FIELDS = `fragment PageFrameMasks on RLEMaskListOnFrame {
  frameIndex
  rleMaskList { objectId rleMask { size counts } }
}`;

const DOCS = {
  gallery: `query PageGallery($after: String) {
    videos(first: 100, after: $after) {
      edges { node { ...PageVideo } }
      pageInfo { hasNextPage endCursor }
    }
  }
  ${VIDEO_FIELDS}`,
  defaultVideo: `query PageDefaultVideo { defaultVideo { ...PageVideo } } ${VIDEO_FIELDS}`,
  video: `query PageVideoAt($path: String!) { video(path: $path) { ...PageVideo } } ${VIDEO_FIELDS}`,
  modelInfo: `query PageModel { modelInfo { name displayName parameters } }`,
  startSession: `mutation PageStartSession($input: StartSessionInput!) { startSession(input: $input) { sessionId } }`,
  closeSession: `mutation PageCloseSession($input: CloseSessionInput!) { closeSession(input: $input) { success } }`,
  addPoints: `mutation PageAddPoints($input: AddPointsInput!) { addPoints(input: $input) { ...PageFrameMasks } }
  ${FRAME_FIELDS}`,
  clearPointsInFrame: `mutation PageClearFrame($input: ClearPointsInFrameInput!) {
    clearPointsInFrame(input: $input) { ...PageFrameMasks }
  }
  ${FRAME_FIELDS}`,
  clearPointsInVideo: `mutation PageClearVideo($input: ClearPointsInVideoInput!) {
    clearPointsInVideo(input: $input) { success }
  }`,
  removeObject: `mutation PageRemoveObject($input: RemoveObjectInput!) { removeObject(input: $input) { ...PageFrameMasks } }
  ${FRAME_FIELDS}`,
  cancelPropagation: `mutation PageCancel($input: CancelPropagateInVideoInput!) {
    cancelPropagateInVideo(input: $input) { success }
  }`,
  uploadVideo: `mutation PageUpload($file: Upload!) { uploadVideo(file: $file) { ...PageVideo } } ${VIDEO_FIELDS}`,
};

export const UPLOAD_DOCUMENT = DOCS.uploadVideo;

interface GraphQLAnswer<T> {
  data?: T | null;
  errors?: { message: string }[];
}

/** Turns a GraphQL answer into its data, or an ApiError carrying the first error's message. */
export function graphqlResult<T>(answer: GraphQLAnswer<T>, what: string): T {
  if (answer.errors && answer.errors.length > 0) {
    const message = answer.errors[0].message || `${what} failed`;
    throw new ApiError(isExpiredMessage(message) ? 'expired' : 'graphql', message);
  }
  if (!answer.data) throw new ApiError('protocol', `${what}: the server sent no data`);
  return answer.data;
}

export class GraphQLClient {
  constructor(readonly base: string) {}

  url(path: string): string {
    return `${this.base}/${path.replace(/^\/+/, '')}`;
  }

  async request<T>(query: string, variables: Record<string, unknown>, what: string): Promise<T> {
    const res = await fetchOrExplain(
      this.url('graphql'),
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ query, variables }),
        credentials: 'same-origin',
      },
      what,
    );
    const text = await res.text();
    let answer: GraphQLAnswer<T>;
    try {
      answer = JSON.parse(text) as GraphQLAnswer<T>;
    } catch {
      if (!res.ok) throw await errorFromResponse(new Response(text, { status: res.status }), what);
      throw new ApiError('protocol', `${what}: the server's answer is not JSON`);
    }
    if (!res.ok && !answer.errors) throw new ApiError('http', `${what}: HTTP ${res.status}`, res.status);
    return graphqlResult(answer, what);
  }

  async gallery(): Promise<Video[]> {
    const videos: Video[] = [];
    let after: string | null = null;
    for (let page = 0; page < 1000; page++) {
      type Page = {
        videos: { edges: { node: Video }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
      };
      const data: Page = await this.request<Page>(DOCS.gallery, { after }, 'Loading the gallery');
      videos.push(...data.videos.edges.map((e) => e.node));
      if (!data.videos.pageInfo.hasNextPage || !data.videos.pageInfo.endCursor) break;
      after = data.videos.pageInfo.endCursor;
    }
    return videos;
  }

  async defaultVideo(): Promise<Video> {
    const data = await this.request<{ defaultVideo: Video }>(DOCS.defaultVideo, {}, 'Finding the default video');
    return data.defaultVideo;
  }

  /** sam2c's Query.video: a video by path (uploads with their kept title), or null. */
  async video(path: string): Promise<Video | null> {
    const data = await this.request<{ video: Video | null }>(DOCS.video, { path }, 'Finding the video');
    return data.video;
  }

  /** sam2c's Query.modelInfo: the model the server loaded. */
  async modelInfo(): Promise<ModelInfo> {
    const data = await this.request<{ modelInfo: ModelInfo }>(DOCS.modelInfo, {}, 'Asking for the model');
    return data.modelInfo;
  }

  async startSession(path: string): Promise<string> {
    const data = await this.request<{ startSession: { sessionId: string } }>(
      DOCS.startSession,
      { input: { path } },
      'Starting a session',
    );
    return data.startSession.sessionId;
  }

  async closeSession(sessionId: string): Promise<boolean> {
    const data = await this.request<{ closeSession: { success: boolean } }>(
      DOCS.closeSession,
      { input: { sessionId } },
      'Closing the session',
    );
    return data.closeSession.success;
  }

  /** Sends all points of one object on one frame (normalised 0..1), replacing earlier ones. */
  async addPoints(
    sessionId: string,
    frameIndex: number,
    objectId: number,
    points: { x: number; y: number; label: number }[], // labels 0/1 points, 2/3 a box's corners
  ): Promise<FrameMasks> {
    const data = await this.request<{ addPoints: FrameMasks }>(
      DOCS.addPoints,
      {
        input: {
          sessionId,
          frameIndex,
          objectId,
          labels: points.map((p) => p.label),
          points: points.map((p) => [p.x, p.y]),
          clearOldPoints: true,
        },
      },
      'Adding a point',
    );
    return data.addPoints;
  }

  async clearPointsInFrame(sessionId: string, frameIndex: number, objectId: number): Promise<FrameMasks> {
    const data = await this.request<{ clearPointsInFrame: FrameMasks }>(
      DOCS.clearPointsInFrame,
      { input: { sessionId, frameIndex, objectId } },
      'Clearing points',
    );
    return data.clearPointsInFrame;
  }

  async clearPointsInVideo(sessionId: string): Promise<boolean> {
    const data = await this.request<{ clearPointsInVideo: { success: boolean } }>(
      DOCS.clearPointsInVideo,
      { input: { sessionId } },
      'Clearing all points',
    );
    return data.clearPointsInVideo.success;
  }

  async removeObject(sessionId: string, objectId: number): Promise<FrameMasks[]> {
    const data = await this.request<{ removeObject: FrameMasks[] }>(
      DOCS.removeObject,
      { input: { sessionId, objectId } },
      'Removing the object',
    );
    return data.removeObject;
  }

  async cancelPropagation(sessionId: string): Promise<boolean> {
    const data = await this.request<{ cancelPropagateInVideo: { success: boolean } }>(
      DOCS.cancelPropagation,
      { input: { sessionId } },
      'Cancelling tracking',
    );
    return data.cancelPropagateInVideo.success;
  }
}
