using System;
using System.Collections.Immutable;

namespace Functional.Autodiff;

// Forward mode, Jacobians and Hessians, on top of the reverse and forward transforms.
public static partial class AD
{
    /// <summary>f(x) and the directional derivative J·v, computed by forward mode (no Jacobian is formed).</summary>
    /// <exception cref="ShapeMismatchException">The tangent's shape is not the input's.</exception>
    public static Func<Value, Value, (Value Value, Value Tangent)> Jvp(Func<Expr, Expr> f)
    {
        Guard.NotNull(f);
        return (x, v) =>
        {
            if (v.Shape != x.Shape)
                throw new ShapeMismatchException("Jvp", x.Shape, v.Shape, $"The tangent must have the input's shape {x.Shape}.");
            var u = Expr.Var("x", x);
            var y = Call(f, u);
            return (y.Value, Forward.Tangent(y, [u], [Expr.Const(v)]).Value);
        };
    }

    /// <summary>
    /// The Jacobian of f at x as a matrix (rows: output elements, columns: input elements), for scalar or vector
    /// inputs and outputs. Reverse mode (one pullback per row) when the output is no larger than the input,
    /// forward mode (one JVP per column) otherwise; both are also available as <see cref="JacobianRev"/> and <see cref="JacobianFwd"/>.
    /// </summary>
    /// <exception cref="ShapeMismatchException">The input or the output is a matrix.</exception>
    public static Func<Value, MathNet.Numerics.LinearAlgebra.Matrix<double>> Jacobian(Func<Expr, Expr> f)
    {
        Guard.NotNull(f);
        return x =>
        {
            var (u, y) = TraceForJacobian("Jacobian", f, x);
            return y.Shape.Size <= x.Shape.Size ? RowsByPullbacks(u, y) : ColumnsByJvps(u, y);
        };
    }

    /// <summary>The Jacobian by reverse mode: one pullback per output element.</summary>
    /// <exception cref="ShapeMismatchException">The input or the output is a matrix.</exception>
    public static Func<Value, MathNet.Numerics.LinearAlgebra.Matrix<double>> JacobianRev(Func<Expr, Expr> f)
    {
        Guard.NotNull(f);
        return x =>
        {
            var (u, y) = TraceForJacobian("JacobianRev", f, x);
            return RowsByPullbacks(u, y);
        };
    }

    /// <summary>The Jacobian by forward mode: one JVP per input element.</summary>
    /// <exception cref="ShapeMismatchException">The input or the output is a matrix.</exception>
    public static Func<Value, MathNet.Numerics.LinearAlgebra.Matrix<double>> JacobianFwd(Func<Expr, Expr> f)
    {
        Guard.NotNull(f);
        return x =>
        {
            var (u, y) = TraceForJacobian("JacobianFwd", f, x);
            return ColumnsByJvps(u, y);
        };
    }

    /// <summary>The Hessian of a scalar function at a scalar or vector x, by forward-over-reverse (one JVP of the gradient graph per column).</summary>
    /// <exception cref="NonScalarOutputException">f's output is not a scalar.</exception>
    /// <exception cref="ShapeMismatchException">x is a matrix.</exception>
    public static Func<Value, MathNet.Numerics.LinearAlgebra.Matrix<double>> Hessian(Func<Expr, Expr> f)
    {
        Guard.NotNull(f);
        return x =>
        {
            if (x.Shape.IsMatrix)
                throw new ShapeMismatchException("Hessian", x.Shape, "The Hessian takes a scalar or a vector input; for a matrix, flatten it into a vector inside the function.");
            var u = Expr.Var("x", x);
            var g = Reverse.Gradients(Scalar("Hessian", Call(f, u)), [u], Expr.Const(1.0))[0];
            var n = x.Shape.Size;
            var h = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.Dense(n, n);
            for (var j = 0; j < n; j++)
            {
                var column = Forward.Tangent(g, [u], [Expr.Const(Basis(x.Shape, j))]).Value;
                for (var i = 0; i < n; i++) h[i, j] = Element(column, i);
            }
            return h;
        };
    }

    /// <summary>The Hessian-vector product H·v of a scalar function, without forming H (forward-over-reverse).</summary>
    /// <exception cref="NonScalarOutputException">f's output is not a scalar.</exception>
    /// <exception cref="ShapeMismatchException">v's shape is not x's.</exception>
    public static Func<Value, Value, Value> Hvp(Func<Expr, Expr> f)
    {
        Guard.NotNull(f);
        return (x, v) =>
        {
            if (v.Shape != x.Shape)
                throw new ShapeMismatchException("Hvp", x.Shape, v.Shape, $"The direction must have the input's shape {x.Shape}.");
            var u = Expr.Var("x", x);
            var g = Reverse.Gradients(Scalar("Hvp", Call(f, u)), [u], Expr.Const(1.0))[0];
            return Forward.Tangent(g, [u], [Expr.Const(v)]).Value;
        };
    }

    private static (Var U, Expr Y) TraceForJacobian(string name, Func<Expr, Expr> f, Value x)
    {
        if (x.Shape.IsMatrix)
            throw new ShapeMismatchException(name, x.Shape, "Jacobians take scalar or vector inputs; for a matrix, flatten it into a vector inside the function.");
        var u = Expr.Var("x", x);
        var y = Call(f, u);
        if (y.Shape.IsMatrix)
            throw new ShapeMismatchException(name, y.Shape, "Jacobians take scalar or vector outputs; return a vector (for example the matrix's rows one after another).");
        return (u, y);
    }

    private static MathNet.Numerics.LinearAlgebra.Matrix<double> RowsByPullbacks(Var u, Expr y)
    {
        int m = y.Shape.Size, n = u.Shape.Size;
        var jac = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.Dense(m, n);
        for (var i = 0; i < m; i++)
        {
            var row = Reverse.GradientValues(y, [u], Basis(y.Shape, i))[0];
            for (var j = 0; j < n; j++) jac[i, j] = Element(row, j);
        }
        return jac;
    }

    private static MathNet.Numerics.LinearAlgebra.Matrix<double> ColumnsByJvps(Var u, Expr y)
    {
        int m = y.Shape.Size, n = u.Shape.Size;
        var jac = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.Dense(m, n);
        for (var j = 0; j < n; j++)
        {
            var column = Forward.Tangent(y, [u], [Expr.Const(Basis(u.Shape, j))]).Value;
            for (var i = 0; i < m; i++) jac[i, j] = Element(column, i);
        }
        return jac;
    }

    /// <summary>The k-th unit value of a scalar or vector shape.</summary>
    private static Value Basis(Shape shape, int k)
    {
        if (shape.IsScalar) return Value.Scalar(1.0);
        var d = new double[shape.Size];
        d[k] = 1;
        return Value.Own(shape, d);
    }

    private static double Element(Value v, int k) => v.Shape.IsScalar ? v.ToScalar() : v.Span[k];
}
