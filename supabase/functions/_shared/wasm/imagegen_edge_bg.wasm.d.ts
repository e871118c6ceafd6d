/* tslint:disable */
/* eslint-disable */
export const memory: WebAssembly.Memory;
export const __wbg_edgeapp_free: (a: number, b: number) => void;
export const dbConnectOptions: (a: any) => [number, number, number, number];
export const edgeapp_gatewayRejection: (a: number, b: number, c: number) => [number, number];
export const edgeapp_generateImage: (a: number, b: any) => any;
export const edgeapp_handBack: (a: number) => any;
export const edgeapp_models: (a: number, b: any) => [number, number, number];
export const edgeapp_modelsRows: () => [number, number];
export const edgeapp_new: (a: any) => number;
export const edgeapp_processGeneration: (a: number, b: any) => any;
export const edgeapp_processJobs: (a: number, b: any) => any;
export const edgeapp_replicateWebhook: (a: number, b: any) => any;
export const edgeapp_startGeneration: (a: number, b: any) => any;
export const wasm_bindgen__convert__closures_____invoke__h1c63c6372677919a: (a: number, b: number, c: any, d: any) => void;
export const wasm_bindgen__convert__closures_____invoke__hb75119badfe1c789: (a: number, b: number, c: any) => [number, number];
export const wasm_bindgen__convert__closures_____invoke__h1088e2763f4c0839: (a: number, b: number) => void;
export const __wbindgen_malloc: (a: number, b: number) => number;
export const __wbindgen_realloc: (a: number, b: number, c: number, d: number) => number;
export const __wbindgen_free: (a: number, b: number, c: number) => void;
export const __wbindgen_exn_store: (a: number) => void;
export const __externref_table_alloc: () => number;
export const __wbindgen_externrefs: WebAssembly.Table;
export const __wbindgen_destroy_closure: (a: number, b: number) => void;
export const __externref_table_dealloc: (a: number) => void;
export const __wbindgen_start: () => void;
