/* tslint:disable */
/* eslint-disable */

/** What the module needs from its host; built by supabase/functions/_shared/host.ts. */
export interface Host {
    /** Calls an allow-listed SQL function; `args` is a JSON array of {name, type, value}; resolves to a JSON array of rows. */
    rpc(fn: string, args: string): Promise<string>;
    env(name: string): string | undefined;
    log(line: string): void;
    /** Streams `source`'s body into the upload described by `upload` (JSON), at most `maxBytes`. */
    pipe(source: Response, upload: string, maxBytes: number): Promise<string>;
    /** Keeps the isolate alive until `promise` settles. */
    defer(promise: Promise<unknown>): void;
}



/**
 * The application as exported to JS.
 */
export class EdgeApp {
    free(): void;
    [Symbol.dispose](): void;
    /**
     * The check Supabase's gateway makes when `verify_jwt` is on: a valid project JWT of any role.
     * Returns `undefined` when the request may pass, or the reason it may not.
     */
    gatewayRejection(authorization?: string | null): string | undefined;
    /**
     * `generate-image` (legacy, synchronous): answers the finished generation, or 202 past its limit.
     */
    generateImage(request: Request): Promise<any>;
    /**
     * The runtime's `beforeunload`: hands every job this isolate holds back to the queue without
     * spending an attempt; resolves to how many went back.
     */
    handBack(): Promise<any>;
    /**
     * The `public.models` rows the catalog defines, as JSON (what the generated migration writes); tests
     * compare the database with it.
     */
    static modelsRows(): string;
    /**
     * `models`: the catalog for clients (no configuration needed).
     */
    models(request: Request): Response;
    /**
     * Reads configuration through `host.env` once.
     */
    constructor(host: Host);
    /**
     * `process-generation` (service role): runs a generation's prediction and answers its outputs.
     */
    processGeneration(request: Request): Promise<any>;
    /**
     * `process-jobs` (service role): the worker; answers at once what it claimed and runs the jobs in the
     * background. Other valid tokens get a coalesced wake-up of the worker.
     */
    processJobs(request: Request): Promise<any>;
    /**
     * `replicate-webhook`: Replicate's signed `completed` delivery; records the prediction's end and
     * wakes the worker when a parked job became due.
     */
    replicateWebhook(request: Request): Promise<any>;
    /**
     * `start-generation`: resolves to a `Response`; never rejects for request errors.
     */
    startGeneration(request: Request): Promise<any>;
}

/**
 * `{url, max, prepare, ssl}` read from the host's environment; throws an `Error` with `code:
 * "misconfigured"` whose message names the variable (never its value: the URL holds the password).
 */
export function dbConnectOptions(host: Host): string;

export type InitInput = RequestInfo | URL | Response | BufferSource | WebAssembly.Module;

export interface InitOutput {
    readonly memory: WebAssembly.Memory;
    readonly __wbg_edgeapp_free: (a: number, b: number) => void;
    readonly dbConnectOptions: (a: any) => [number, number, number, number];
    readonly edgeapp_gatewayRejection: (a: number, b: number, c: number) => [number, number];
    readonly edgeapp_generateImage: (a: number, b: any) => any;
    readonly edgeapp_handBack: (a: number) => any;
    readonly edgeapp_models: (a: number, b: any) => [number, number, number];
    readonly edgeapp_modelsRows: () => [number, number];
    readonly edgeapp_new: (a: any) => number;
    readonly edgeapp_processGeneration: (a: number, b: any) => any;
    readonly edgeapp_processJobs: (a: number, b: any) => any;
    readonly edgeapp_replicateWebhook: (a: number, b: any) => any;
    readonly edgeapp_startGeneration: (a: number, b: any) => any;
    readonly wasm_bindgen__convert__closures_____invoke__h1c63c6372677919a: (a: number, b: number, c: any, d: any) => void;
    readonly wasm_bindgen__convert__closures_____invoke__hb75119badfe1c789: (a: number, b: number, c: any) => [number, number];
    readonly wasm_bindgen__convert__closures_____invoke__h1088e2763f4c0839: (a: number, b: number) => void;
    readonly __wbindgen_malloc: (a: number, b: number) => number;
    readonly __wbindgen_realloc: (a: number, b: number, c: number, d: number) => number;
    readonly __wbindgen_free: (a: number, b: number, c: number) => void;
    readonly __wbindgen_exn_store: (a: number) => void;
    readonly __externref_table_alloc: () => number;
    readonly __wbindgen_externrefs: WebAssembly.Table;
    readonly __wbindgen_destroy_closure: (a: number, b: number) => void;
    readonly __externref_table_dealloc: (a: number) => void;
    readonly __wbindgen_start: () => void;
}

export type SyncInitInput = BufferSource | WebAssembly.Module;

/**
 * Instantiates the given `module`, which can either be bytes or
 * a precompiled `WebAssembly.Module`.
 *
 * @param {{ module: SyncInitInput }} module - Passing `SyncInitInput` directly is deprecated.
 *
 * @returns {InitOutput}
 */
export function initSync(module: { module: SyncInitInput } | SyncInitInput): InitOutput;

/**
 * If `module_or_path` is {RequestInfo} or {URL}, makes a request and
 * for everything else, calls `WebAssembly.instantiate` directly.
 *
 * @param {{ module_or_path: InitInput | Promise<InitInput> }} module_or_path - Passing `InitInput` directly is deprecated.
 *
 * @returns {Promise<InitOutput>}
 */
export default function __wbg_init (module_or_path?: { module_or_path: InitInput | Promise<InitInput> } | InitInput | Promise<InitInput>): Promise<InitOutput>;
