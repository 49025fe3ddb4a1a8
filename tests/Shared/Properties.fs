/// The FsCheck configuration of the Expecto property tests: every property replays a fixed seed, so each run is the
/// same run, and a failure prints the seed, gamma and size that replay it (Expecto.FsCheck's "Focus on error" line).
module Functional.Autodiff.Tests.Properties

open Expecto

/// A property that replays FsCheck's "(seed,gamma)" with 100 tests at sizes 1 to 100, the counts FsCheck.NUnit's
/// [<Property(Replay = …)>] ran with; `{ replay Seed with maxTest = 300 }` changes a count.
let replay (seedGamma: string) : FsCheckConfig =
    match seedGamma.Trim('(', ')', ' ').Split ',' with
    | [| seed; gamma |] ->
        { FsCheckConfig.defaultConfig with
            replay = Some(uint64 (seed.Trim()), uint64 (gamma.Trim()), None)
        }
    | _ -> invalidArg (nameof seedGamma) $"replay: \"{seedGamma}\" is not FsCheck's \"(seed,gamma)\""
