import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startProcess, track, type RunningProcess } from './processes';

export interface ObsOptions {
  /** OBS's Settings › Stream › Server, and the stream key. */
  server: string;
  key: string;
  /** A media file OBS plays in a loop as its only source. */
  clip: string;
  /** Settings › Output (advanced) › Keyframe Interval; 0 is OBS's default ("auto"). */
  keyframeSeconds: number;
  /** Its home (configuration and logs). */
  dir: string;
}

export interface RunningObs {
  obs: RunningProcess;
  stop(): Promise<void>;
}

/**
 * OBS Studio as a streamer runs it: a profile with a custom RTMP service, the x264 encoder at
 * 2.5 Mbit/s, a scene with one media source, and streaming started from the command line. It
 * runs on its own virtual display (Xvfb, which picks a free display number).
 */
export async function startObs(options: ObsOptions): Promise<RunningObs> {
  const config = path.join(options.dir, '.config', 'obs-studio');
  const profile = path.join(config, 'basic', 'profiles', 'Test');
  fs.mkdirSync(profile, { recursive: true });
  fs.mkdirSync(path.join(config, 'basic', 'scenes'), { recursive: true });
  fs.writeFileSync(
    path.join(config, 'global.ini'),
    '[General]\nFirstRun=false\nLastVersion=486539265\nEnableAutoUpdates=false\nConfirmOnExit=false\n' +
      '[Basic]\nProfile=Test\nProfileDir=Test\nSceneCollection=Test\nSceneCollectionFile=Test\nConfigOnNewProfile=false\n' +
      '[BasicWindow]\nSysTrayEnabled=false\nWarnBeforeStartingStream=false\nWarnBeforeStoppingStream=false\n',
  );
  fs.writeFileSync(
    path.join(profile, 'basic.ini'),
    '[General]\nName=Test\n[Output]\nMode=Advanced\n[AdvOut]\nEncoder=obs_x264\nApplyServiceSettings=true\nTrack1Bitrate=160\n' +
      '[Video]\nBaseCX=1280\nBaseCY=720\nOutputCX=1280\nOutputCY=720\nFPSType=0\nFPSCommon=30\n[Audio]\nSampleRate=48000\nChannelSetup=Stereo\n',
  );
  fs.writeFileSync(path.join(profile, 'streamEncoder.json'), JSON.stringify({ bitrate: 2500, keyint_sec: options.keyframeSeconds, preset: 'veryfast', rate_control: 'CBR' }));
  fs.writeFileSync(
    path.join(profile, 'service.json'),
    JSON.stringify({ type: 'rtmp_custom', settings: { server: options.server, key: options.key, use_auth: false, bwtest: false } }),
  );
  const item = { name: 'Clip', source_uuid: '22222222-2222-4222-8222-222222222222', visible: true, id: 1, pos: { x: 0, y: 0 }, scale: { x: 1, y: 1 }, align: 5, rot: 0 };
  const scenes = {
    name: 'Test',
    current_scene: 'Scene',
    current_program_scene: 'Scene',
    scene_order: [{ name: 'Scene' }],
    sources: [
      { id: 'scene', versioned_id: 'scene', name: 'Scene', uuid: '11111111-1111-4111-8111-111111111111', settings: { items: [item], id_counter: 1, custom_size: false } },
      { id: 'ffmpeg_source', versioned_id: 'ffmpeg_source', name: 'Clip', uuid: item.source_uuid, settings: { local_file: options.clip, is_local_file: true, looping: true } },
    ],
    transitions: [],
  };
  fs.writeFileSync(path.join(config, 'basic', 'scenes', 'Test.json'), JSON.stringify(scenes));

  const { display, xvfb } = await startXvfb();
  const env = { ...process.env, HOME: options.dir, DISPLAY: display };
  const obs = startProcess(
    'obs',
    ['--profile', 'Test', '--collection', 'Test', '--scene', 'Scene', '--startstreaming', '--disable-updater', '--disable-shutdown-check', '--multi'],
    {
      env,
    },
  );
  return {
    obs,
    stop: async () => {
      await obs.stop();
      await xvfb.stop();
    },
  };
}

/** An X server of its own, on the display number it reports as free (-displayfd). */
async function startXvfb(): Promise<{ display: string; xvfb: RunningProcess }> {
  const child = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', '1280x800x24', '-nolisten', 'tcp'], { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
  const xvfb = track(child);
  const number = await new Promise<string>((resolve, reject) => {
    let out = '';
    (child.stdio[3] as NodeJS.ReadableStream).on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(out.trim());
    });
    child.once('exit', () => reject(new Error(`Xvfb exited before it had a display`)));
  });
  return { display: `:${number}`, xvfb };
}
