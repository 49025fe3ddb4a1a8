// The built libraries, for the docs pages (`#load ".helpers/references.fsx"` from a page in docs/).
//
// A script cannot choose a path at run time: `#r` and `#I` take literal paths. So the pages read one
// fixed folder, docs/.lib, and the build fills it: tests/Docs.Tests references the libraries, and after
// every build of it (`dotnet build` of the solution or of that project, or `./test`; any configuration)
// a target there copies the libraries and the package assemblies they use into docs/.lib. The last build
// wins, so `dotnet fsi` and `dotnet fsdocs build --eval` run the pages against what was built last.
// docs/.lib is ignored by git, and fsdocs skips folders whose names start with a dot.
//
// The package assemblies are copied too (a class library's bin folder does not hold them), so nothing
// here depends on where NuGet keeps its packages (NUGET_PACKAGES, ~/.nuget/packages).
// A library that needs another package: add the package to DocsLibraryPackages in
// tests/Docs.Tests/Docs.Tests.fsproj and an #r line below.

#I "../.lib"
#r "MathNet.Numerics.dll"
#r "System.Numerics.Tensors.dll"
#r "Functional.Autodiff.dll"
#r "Functional.Autodiff.FSharp.dll"

// Graphs, values and parameters print as bounded one-liners in F# Interactive (the F# API's printers).
fsi.AddPrinter Functional.Autodiff.FSharp.Printers.expr
fsi.AddPrinter Functional.Autodiff.FSharp.Printers.value
fsi.AddPrinter Functional.Autodiff.FSharp.Printers.parameters
