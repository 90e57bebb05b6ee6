/** One sample of a Prometheus text exposition: `name{labels} value`, labels written as the origin writes them. */
export function metricValue(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** The origin's metrics, scraped over HTTP (no token). */
export async function scrape(publicUrl: string): Promise<string> {
  return (await fetch(`${publicUrl}/metrics`)).text();
}
