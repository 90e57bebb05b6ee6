/**
 * The exposition without the `node` label every series carries (NODE_ID), for tests that look at
 * one node: `origin_live_streams{node="a"} 1` reads `origin_live_streams 1`.
 */
export function withoutNodeLabel(text: string): string {
  return text.replace(/\{node="[^"]*"\}/g, '').replace(/,node="[^"]*"\}/g, '}');
}

/** One sample of a Prometheus text exposition: `name{labels} value`, labels written as the origin writes them (without `node`). */
export function metricValue(text: string, series: string): number | undefined {
  const line = withoutNodeLabel(text)
    .split('\n')
    .find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** The origin's metrics, scraped over HTTP (no token). */
export async function scrape(publicUrl: string): Promise<string> {
  return (await fetch(`${publicUrl}/metrics`)).text();
}
