// net8.0 has no OverloadResolutionPriorityAttribute (it came with .NET 9). The C# compiler recognises the attribute
// by its full name, in this assembly and in the assemblies of code that calls it, so the net8.0 build declares it
// here and resolves AD's overloads exactly as the net10.0 build does.
#if !NET9_0_OR_GREATER
namespace System.Runtime.CompilerServices;

[AttributeUsage(AttributeTargets.Method | AttributeTargets.Constructor | AttributeTargets.Property, AllowMultiple = false, Inherited = false)]
internal sealed class OverloadResolutionPriorityAttribute(int priority) : Attribute
{
    public int Priority { get; } = priority;
}
#endif
