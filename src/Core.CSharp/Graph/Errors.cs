using System;

namespace Functional.Autodiff;

/// <summary>
/// Two shapes do not fit an op. The message names the op, both shapes and what to do instead.
/// Thrown by the factory that builds the node, so it points at the line that made the mistake.
/// </summary>
public sealed class ShapeMismatchException : ArgumentException
{
    /// <summary>Creates the exception for <paramref name="op"/> with the shapes involved and a fix.</summary>
    public ShapeMismatchException(string op, Shape left, Shape right, string fix)
        : base($"{op}: shapes {left} and {right} do not fit. {fix}")
    {
        Op = op;
        Left = left;
        Right = right;
    }

    /// <summary>Creates the exception for a single shape that <paramref name="op"/> cannot take.</summary>
    public ShapeMismatchException(string op, Shape actual, string fix)
        : base($"{op}: cannot take {actual}. {fix}")
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
/// Grad (or ValueAndGrad) was given a function whose output is not a scalar.
/// </summary>
public sealed class NonScalarOutputException : ArgumentException
{
    /// <summary>Creates the exception for a combinator and the output shape it got.</summary>
    public NonScalarOutputException(string combinator, Shape output)
        : base($"{combinator} needs a scalar output but got {output}: use Vjp with a cotangent (PyTorch's backward(v)), " +
               "one Vjp per output element for the whole Jacobian, or Sum the output first.", "f")
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
        : base($"The graph reads variable '{variable.Name}' ({variable.Shape}), which has no value: " +
               $"bind one with AD.Eval(expr, bindings), or build the variable with a value (Expr.Var(\"{variable.Name}\", value)).")
    {
        Variable = variable;
    }

    /// <summary>Creates the exception for a variable whose name is bound, but to another variable of that name.</summary>
    public UnboundVariableException(Var variable, Var boundNamesake)
        : base($"The graph reads variable '{variable.Name}' ({variable.Shape}), which has no value. A variable named " +
               $"'{boundNamesake.Name}' ({boundNamesake.Shape}) is bound, but it is another variable: variables are told apart by identity, " +
               "not by name, so bind the very variable the graph was built with.")
    {
        ArgumentNullException.ThrowIfNull(boundNamesake);
        Variable = variable;
    }

    /// <summary>The unbound variable.</summary>
    public Var Variable { get; }
}
