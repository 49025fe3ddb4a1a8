using System;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.IO;
using System.Reflection;
using System.Runtime.CompilerServices;

namespace Functional.Autodiff;

/// <summary>
/// Two shapes do not fit an op. The message names the op, both shapes and what to do instead.
/// Thrown by the factory that builds the node, so it points at the line that made the mistake.
/// </summary>
public sealed class ShapeMismatchException : ArgumentException
{
    /// <summary>Creates the exception for <paramref name="op"/> with the shapes involved and a fix.</summary>
    public ShapeMismatchException(string op, Shape left, Shape right, string fix)
        : base(UserCode.Mark($"{op}: shapes {left} and {right} do not fit. {fix}"))
    {
        Op = op;
        Left = left;
        Right = right;
    }

    /// <summary>Creates the exception for a single shape that <paramref name="op"/> cannot take.</summary>
    public ShapeMismatchException(string op, Shape actual, string fix)
        : base(UserCode.Mark($"{op}: cannot take {actual}. {fix}"))
    {
        Op = op;
        Left = actual;
        Right = actual;
    }

    /// <summary>The op (or combinator) that refused the shapes.</summary>
    public string Op { get; }

    /// <summary>The first shape involved.</summary>
    public Shape Left { get; }

    /// <summary>The second shape involved (the same as <see cref="Left"/> for a one-shape error).</summary>
    public Shape Right { get; }
}

/// <summary>
/// A matrix that an op of linear algebra cannot take, found when the value is computed: a singular matrix for
/// inverse or solve, a matrix that is not positive definite for cholesky, a determinant that is not positive for
/// logdet (NumPy's and PyTorch's <c>LinAlgError</c>). The message names the op, what is wrong with the matrix and a
/// fix; the op never returns a result filled with NaN or infinities instead.
/// </summary>
public sealed class LinearAlgebraException : InvalidOperationException
{
    /// <summary>Creates the exception for <paramref name="op"/> with the problem and a fix.</summary>
    public LinearAlgebraException(string op, string problem, string fix)
        : base(UserCode.Mark($"{op}: {problem}. {fix}"))
    {
        Op = op;
    }

    /// <summary>The op that refused the matrix.</summary>
    public string Op { get; }
}

/// <summary>
/// Grad (or ValueAndGrad) was given a function whose output is not a scalar.
/// </summary>
public sealed class NonScalarOutputException : ArgumentException
{
    /// <summary>Creates the exception for a combinator and the output shape it got.</summary>
    public NonScalarOutputException(string combinator, Shape output)
        : base(UserCode.Mark($"{combinator} needs a scalar output but got {output}: use Vjp with a cotangent (PyTorch's backward(v)), " +
               "one Vjp per output element for the whole Jacobian, or Sum the output first."), "f")
    {
        Output = output;
    }

    /// <summary>The shape the function returned.</summary>
    public Shape Output { get; }
}

/// <summary>
/// A value was asked of a graph that reads a variable with no value bound to it.
/// </summary>
public sealed class UnboundVariableException : InvalidOperationException
{
    /// <summary>Creates the exception naming the variable.</summary>
    public UnboundVariableException(Var variable)
        : base(UserCode.Mark($"The graph reads variable '{variable.Name}' ({variable.Shape}), which has no value: " +
               $"bind one with AD.Eval(expr, bindings), or build the variable with a value (Expr.Var(\"{variable.Name}\", value))."))
    {
        Variable = variable;
    }

    /// <summary>Creates the exception for a variable whose name is bound, but to another variable of that name.</summary>
    public UnboundVariableException(Var variable, Var boundNamesake)
        : base(UserCode.Mark($"The graph reads variable '{variable.Name}' ({variable.Shape}), which has no value. A variable named " +
               $"'{boundNamesake.Name}' ({boundNamesake.Shape}) is bound, but it is another variable: variables are told apart by identity, " +
               "not by name, so bind the very variable the graph was built with."))
    {
        ArgumentNullException.ThrowIfNull(boundNamesake);
        Variable = variable;
    }

    /// <summary>The unbound variable.</summary>
    public Var Variable { get; }
}

/// <summary>
/// A function being compiled (<see cref="Compiled"/>) read the value of a node that depends on its inputs: a compiled
/// program is traced once, without values, so it cannot follow a choice made on them. The message names the node (its
/// op and shape), the input it depends on, the user's line and the fix.
/// </summary>
public sealed class CompileTraceException : InvalidOperationException
{
    /// <summary>Creates the exception for <paramref name="node"/>, which depends on the placeholder <paramref name="input"/>.</summary>
    public CompileTraceException(Expr node, Var input)
        : base(UserCode.Mark($"The function being compiled reads .Value of {Describe(node, input)}: a compiled function is traced " +
               "once, without input values, so it cannot branch or loop on them. Use Expr.Where for a value-dependent choice, " +
               "or the uncompiled AD.ValueAndGrad (AD.Grad, AD.Vjp, AD.Jvp), which traces at every call."))
    {
        ArgumentNullException.ThrowIfNull(input);
        Node = node;
        Input = input;
    }

    /// <summary>The node whose value was read.</summary>
    public Expr Node { get; }

    /// <summary>The compiled function's input the node depends on.</summary>
    public Var Input { get; }

    private static string Describe(Expr node, Var input) =>
        ReferenceEquals(node, input) ? $"its input '{input.Name}' ({input.Shape})"
        : $"a{(node.Op is { } op ? $" '{op}'" : "")} node of shape {node.Shape}, which depends on its input '{input.Name}' ({input.Shape})";
}

/// <summary>
/// Where in the user's code a call came from: the first stack frame outside the library's assemblies that has a
/// source file, as "Model.cs:42". Every exception the library throws for bad input names it, so the message points
/// at the user's line, not only at the op. It is computed only when an exception is being made.
/// </summary>
internal static class UserCode
{
    private static readonly Assembly Library = typeof(UserCode).Assembly;

    /// <summary>"Model.cs:42", or null when no frame outside the library has file information.</summary>
    public static string? Site()
    {
        try
        {
            return Site(new StackTrace(1, fNeedFileInfo: true), m => m.Name)?.ToString();
        }
        catch (Exception)
        {
            // Reading symbols can fail in unusual hosts; the message is still right without the site.
            return null;
        }
    }

    /// <summary>The first frame of <paramref name="trace"/> outside the library's assemblies that has a source file.</summary>
    public static SourceSite? Site(StackTrace trace, Func<MethodBase, string> member)
    {
        foreach (var frame in trace.GetFrames())
        {
            if (frame.GetMethod() is not { } method || IsLibrary(method.DeclaringType?.Assembly ?? method.Module.Assembly)) continue;
            if (frame.GetFileName() is not { Length: > 0 } file) continue;
            return new SourceSite(file, frame.GetFileLineNumber(), member(method));
        }
        return null;
    }

    /// <summary>The message with " (at Model.cs:42)" appended when the user's site is known.</summary>
    public static string Mark(string message) => Site() is { } site ? $"{message} (at {site})" : message;

    private static bool IsLibrary(Assembly assembly) =>
        assembly == Library || assembly.GetName().Name == "Functional.Autodiff.FSharp";
}

/// <summary>Argument checks whose exceptions name the user's line (see <see cref="UserCode"/>).</summary>
internal static class Guard
{
    /// <summary>Throws <see cref="ArgumentNullException"/> naming the argument and the user's line when it is null.</summary>
    public static void NotNull([NotNull] object? value, [CallerArgumentExpression(nameof(value))] string? name = null)
    {
        if (value is null) throw new ArgumentNullException(name, UserCode.Mark($"{name} is null."));
    }

    /// <summary>Throws when the string is null (<see cref="ArgumentNullException"/>) or empty (<see cref="ArgumentException"/>).</summary>
    public static void NotNullOrEmpty([NotNull] string? value, [CallerArgumentExpression(nameof(value))] string? name = null)
    {
        NotNull(value, name);
        if (value.Length == 0) throw new ArgumentException(UserCode.Mark($"{name} is empty: give a non-empty name."), name);
    }
}
