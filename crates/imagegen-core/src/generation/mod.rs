//! Running a generation's prediction on Replicate: the part of the work that costs money. Used by the
//! worker's generate-image job and by the standalone process-generation function (one code path).

mod run;

pub use run::{
    run_prediction, run_standalone, Deadlines, PredictionDone, PredictionWait, RunError,
};
