import fs from 'node:fs';
import tls from 'node:tls';

export class TlsCredentialsError extends Error {
  override name = 'TlsCredentialsError';
}

/**
 * The RTMPS listener's certificate and key, read from their PEM files at start and again when the
 * operator asks (SIGHUP, after renewing them): new connections get the new ones, live ones keep
 * theirs. Files that cannot be read or do not match leave the previous ones in use.
 */
export class TlsCredentials {
  private context: tls.SecureContext;

  constructor(private readonly files: { certFile: string; keyFile: string }) {
    this.context = load(files);
  }

  get current(): tls.SecureContext {
    return this.context;
  }

  /** Throws TlsCredentialsError, keeping the credentials in use. */
  reload(): void {
    this.context = load(this.files);
  }
}

function load(files: { certFile: string; keyFile: string }): tls.SecureContext {
  let cert: Buffer;
  let key: Buffer;
  try {
    cert = fs.readFileSync(files.certFile);
    key = fs.readFileSync(files.keyFile);
  } catch (error) {
    throw new TlsCredentialsError(`cannot read the RTMPS certificate or key: ${(error as Error).message}`);
  }
  try {
    return tls.createSecureContext({ cert, key });
  } catch (error) {
    throw new TlsCredentialsError(`the RTMPS certificate and key are not usable together (${files.certFile}, ${files.keyFile}): ${(error as Error).message}`);
  }
}
