/// The entry point of an Expecto test project: `dotnet run --project tests/<Project>` runs every [<Tests>] list of the
/// assembly; Expecto's arguments follow `--` (`--help`, `--filter <list>`, `--sequenced`, `--stress <minutes>`).
module Functional.Autodiff.Tests.Main

open Expecto

[<EntryPoint>]
let main argv = Tests.runTestsInAssemblyWithCLIArgs [] argv
