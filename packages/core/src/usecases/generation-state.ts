/**
 * The step-state record name holding the generation of a job (written by the LTX step,
 * core/usecases/ingest-upload.ts; read by the status API's progress). In a module of its own so
 * that readers do not import the LTX step's image code (sharp) into their bundles.
 */
export const GENERATION_STATE = "generation";
