// A publisher whose every tag the test decides: an FLV file (made by ffmpeg) is read into tags,
// which the test may drop or change, and they are pushed over RTMP in real time. For what real
// encoders do now and then and ffmpeg cannot be made to do: metadata that leaves out a track,
// a track that starts late or stops.
import fs from 'node:fs';
import { chunkMessage, commandMessage, encodeAmf0, RtmpTestClient } from '../../scripts/lib/rtmp-client';
import { sleep } from './wait';

export interface FlvTag {
  /** 8 audio, 9 video, 18 script data. */
  type: number;
  /** Milliseconds. */
  timestamp: number;
  payload: Buffer;
}

export function readFlvTags(file: string): FlvTag[] {
  const data = fs.readFileSync(file);
  const tags: FlvTag[] = [];
  let offset = data.readUInt32BE(5) + 4;
  while (offset + 11 <= data.length) {
    const size = data.readUIntBE(offset + 1, 3);
    const timestamp = data.readUIntBE(offset + 4, 3) | (data[offset + 7]! << 24);
    tags.push({ type: data[offset]!, timestamp, payload: data.subarray(offset + 11, offset + 11 + size) });
    offset += 11 + size + 4;
  }
  return tags;
}

/** An onMetaData tag as encoders send it (`@setDataFrame`), with these fields only. */
export function metadataTag(fields: Record<string, number | string>): FlvTag {
  return { type: 18, timestamp: 0, payload: Buffer.concat([encodeAmf0('@setDataFrame'), encodeAmf0('onMetaData'), encodeAmf0(fields)]) };
}

/** Whether a video tag is an AVC sequence header, an audio tag an AAC one. */
export const isSequenceHeader = (tag: FlvTag) => (tag.type === 9 || tag.type === 8) && tag.payload[1] === 0;
export const isKeyframe = (tag: FlvTag) => tag.type === 9 && tag.payload[0]! >> 4 === 1;

export interface Relay {
  /** Resolves once every tag is sent (then the publisher stops: FCUnpublish, deleteStream) or the connection closed. */
  done: Promise<void>;
  client: RtmpTestClient;
}

/** Publishes with `key` and sends the tags at their timestamps' pace. */
export async function relayFlv(port: number, key: string, tags: FlvTag[]): Promise<Relay> {
  const client = await RtmpTestClient.connect(port);
  await client.handshake();
  client.sendPublishSequence('live', key, port);
  const status = await client.nextStatus();
  if (status?.code !== 'NetStream.Publish.Start') throw new Error(`publish refused: ${status?.code}`);
  const done = (async () => {
    const started = Date.now();
    for (const tag of tags) {
      if (client.closed) return;
      const wait = tag.timestamp - (Date.now() - started);
      if (wait > 0) await sleep(wait);
      client.send(chunkMessage({ csid: tag.type === 18 ? 5 : tag.type === 8 ? 4 : 6, type: tag.type, streamId: 1, payload: tag.payload, timestamp: tag.timestamp }));
    }
    if (client.closed) return;
    client.send(commandMessage('FCUnpublish', 4, null, key));
    client.send(commandMessage('deleteStream', 5, null, 1));
    await client.nextCommand('onStatus', 'NetStream.Unpublish.Success').catch(() => undefined);
    client.close();
  })();
  return { done, client };
}
