/** The runtime configuration served beside the app: one build serves every stage. */

export interface AppConfig {
  restUrl: string;
  wsUrl: string;
}

export async function loadConfig(fetchImpl: typeof fetch = fetch): Promise<AppConfig> {
  const response = await fetchImpl("config.json", { cache: "no-store" });
  if (!response.ok) throw new Error(`config.json answered ${response.status}`);
  const body: unknown = await response.json();
  if (
    typeof body !== "object" ||
    body === null ||
    typeof (body as AppConfig).restUrl !== "string" ||
    typeof (body as AppConfig).wsUrl !== "string"
  ) {
    throw new Error("config.json must hold restUrl and wsUrl");
  }
  const { restUrl, wsUrl } = body as AppConfig;
  return { restUrl: restUrl.replace(/\/+$/, ""), wsUrl };
}
