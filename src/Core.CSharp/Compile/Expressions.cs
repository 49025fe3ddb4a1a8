using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using System.Linq.Expressions;
using System.Reflection;
using LinqExpression = System.Linq.Expressions.Expression;

namespace Functional.Autodiff;

/// <summary>
/// A C# expression-tree lambda translated into a graph: the output node and one scalar variable per input (one per
/// <c>double</c> parameter, or one per element of a <c>double[]</c> parameter, named <c>a[0]</c>, <c>a[1]</c>, …).
/// </summary>
/// <remarks>The variables are symbolic (they carry no value): bind them with <c>AD.Eval</c>,
/// differentiate with <see cref="AD.Gradients(Expr, Expr[])"/>, or compile with <see cref="AD.CompileScalarGrad(Expr, Var[])"/>.</remarks>
public sealed class LambdaGraph
{
    internal LambdaGraph(Expr output, ImmutableArray<Var> inputs)
    {
        Output = output;
        Inputs = inputs;
    }

    /// <summary>The lambda's body as a scalar graph.</summary>
    public Expr Output { get; }

    /// <summary>The scalar inputs, in the order of the lambda's parameters (or of the array's elements).</summary>
    public ImmutableArray<Var> Inputs { get; }
}

/// <summary>
/// A lambda given to <see cref="AD.CompileGrad(Expression{Func{double, double}})"/> or <see cref="Expr.FromLambda(Expression{Func{double, double}})"/>
/// contains a node that cannot be translated into a graph. The message names the node (its <see cref="NodeType"/>, and
/// the method for a call, e.g. <c>Math.Atan2</c>), shows the sub-expression and the whole lambda, and says what to do.
/// </summary>
public sealed class UnsupportedExpressionException : ArgumentException
{
    /// <summary>Creates the exception for an unsupported node.</summary>
    public UnsupportedExpressionException(ExpressionType nodeType, string node, string subexpression, string lambda, string fix)
        : base(UserCode.Mark($"{node} is not supported in a lambda to differentiate: it is `{subexpression}` in `{lambda}`. {fix}"), "f")
    {
        NodeType = nodeType;
        Node = node;
        Subexpression = subexpression;
        Lambda = lambda;
    }

    /// <summary>The kind of the unsupported node.</summary>
    public ExpressionType NodeType { get; }

    /// <summary>The node as the message names it, e.g. "the call to Math.Atan2" or "a Loop node".</summary>
    public string Node { get; }

    /// <summary>The unsupported sub-expression's text (bounded).</summary>
    public string Subexpression { get; }

    /// <summary>The whole lambda's text (bounded).</summary>
    public string Lambda { get; }
}

public abstract partial class Expr
{
    /// <summary>
    /// Translates a C# expression-tree lambda of one double into a scalar graph (see <see cref="LambdaTranslation"/>
    /// for what a lambda may contain). Captured variables are read once, now: later changes to them are not seen.
    /// </summary>
    /// <exception cref="UnsupportedExpressionException">The lambda contains a node that cannot be translated.</exception>
    public static LambdaGraph FromLambda(Expression<Func<double, double>> f) => LambdaTranslation.Translate(f, null);

    /// <summary>Translates a lambda of two doubles into a scalar graph (see <see cref="FromLambda(Expression{Func{double, double}})"/>).</summary>
    /// <exception cref="UnsupportedExpressionException">The lambda contains a node that cannot be translated.</exception>
    public static LambdaGraph FromLambda(Expression<Func<double, double, double>> f) => LambdaTranslation.Translate(f, null);

    /// <summary>Translates a lambda of three doubles into a scalar graph (see <see cref="FromLambda(Expression{Func{double, double}})"/>).</summary>
    /// <exception cref="UnsupportedExpressionException">The lambda contains a node that cannot be translated.</exception>
    public static LambdaGraph FromLambda(Expression<Func<double, double, double, double>> f) => LambdaTranslation.Translate(f, null);

    /// <summary>Translates a lambda of four doubles into a scalar graph (see <see cref="FromLambda(Expression{Func{double, double}})"/>).</summary>
    /// <exception cref="UnsupportedExpressionException">The lambda contains a node that cannot be translated.</exception>
    public static LambdaGraph FromLambda(Expression<Func<double, double, double, double, double>> f) => LambdaTranslation.Translate(f, null);

    /// <summary>
    /// Translates a lambda of a <c>double[]</c> read at constant indices (<c>a[0]</c>, <c>a[2]</c>) into a scalar graph
    /// with one variable per element. Without <paramref name="length"/> the array's length is the highest index read
    /// plus one; with it, every index must be below it (elements never read get a variable too, and a zero gradient).
    /// </summary>
    /// <exception cref="UnsupportedExpressionException">The lambda contains a node that cannot be translated.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index is negative, or not below <paramref name="length"/>.</exception>
    public static LambdaGraph FromLambda(Expression<Func<double[], double>> f, int? length = null) => LambdaTranslation.Translate(f, length);
}

/// <summary>
/// The translation of expression-tree lambdas into graphs, by one iterative walk (an explicit stack: a lambda nesting
/// a hundred thousand additions translates). Supported: the parameters (doubles, or one <c>double[]</c> read at
/// constant or captured indices); constants and captured variables (fields and properties of the closure, and static
/// ones such as <c>Math.PI</c>, read ONCE, at translation time, and converted to double); <c>+ − * /</c> and unary
/// minus on doubles; <c>Math.Exp, Log, Sin, Cos, Tan, Tanh, Sqrt, Pow, Abs, Max, Min</c> (one double argument each, two
/// for Pow, Max and Min); numeric conversions of constants and captured values; and <c>c ? a : b</c> on comparisons
/// (&lt;, &lt;=, &gt;, &gt;=, ==, !=, combined with &amp;&amp;, || and !), which becomes <see cref="Expr.Where"/>: both
/// branches are part of the graph, the gradient flows through the chosen one. Math.Pow with an exponent known at
/// translation time is the pow-by-constant op; Math.Tan is sin/cos; Math.Max and Min split the gradient evenly at a tie.
/// Anything else is refused with an <see cref="UnsupportedExpressionException"/>.
/// </summary>
internal static class LambdaTranslation
{
    private const string Surface =
        "A lambda to differentiate may use its double parameters (or a double[] read at constant indices), constants, captured variables, " +
        "+ - * / and unary minus, Math.Exp, Log, Sin, Cos, Tan, Tanh, Sqrt, Pow, Abs, Max and Min, and c ? a : b on comparisons (<, <=, >, >=, ==, !=, &&, ||, !).";

    private const string ByGraph =
        " For anything else build the graph with Expr (Expr.Create with your own Op for a new function) and compile it with AD.CompileScalarGrad.";

    /// <summary>A translated sub-expression: a graph node, a value known at translation time, or the array parameter.</summary>
    private readonly struct Item
    {
        private Item(Expr? graph, object? known, bool isKnown, bool isArray) =>
            (Graph, Known, IsKnown, IsArray) = (graph, known, isKnown, isArray);

        public Expr? Graph { get; }
        public object? Known { get; }
        public bool IsKnown { get; }
        public bool IsArray { get; }

        public static Item Of(Expr graph) => new(graph, null, false, false);
        public static Item Value(object? known) => new(null, known, true, false);
        public static readonly Item Array = new(null, null, false, true);
    }

    private static readonly HashSet<string> MathFunctions = ["Exp", "Log", "Sin", "Cos", "Tan", "Tanh", "Sqrt", "Pow", "Abs", "Max", "Min"];

    public static LambdaGraph Translate(LambdaExpression lambda, int? length)
    {
        Guard.NotNull(lambda, "f");
        if (length is < 0) throw new ArgumentOutOfRangeException(nameof(length), length, UserCode.Mark("The array's length cannot be negative."));
        var parameters = lambda.Parameters;
        var isArray = parameters.Count == 1 && parameters[0].Type == typeof(double[]);
        if (!isArray && (parameters.Count is 0 or > 4 || parameters.Any(p => p.Type != typeof(double)) || lambda.ReturnType != typeof(double)))
            throw new UnsupportedExpressionException(ExpressionType.Lambda, $"A lambda of ({string.Join(", ", parameters.Select(p => p.Type.Name))}) returning {lambda.ReturnType.Name}",
                Describe(lambda), Describe(lambda), "The lambda must take one to four doubles, or one double[], and return a double.");
        var scalars = isArray ? [] : parameters.Select(p => Expr.Var(p.Name ?? "x", Shape.Scalar)).ToArray();
        var elements = new SortedDictionary<int, Var>();
        var arrayName = isArray ? parameters[0].Name ?? "a" : "a";

        var items = new Dictionary<LinqExpression, Item>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<(LinqExpression Node, bool Ready)>();
        stack.Push((lambda.Body, false));
        var children = new List<LinqExpression>(3);
        while (stack.Count > 0)
        {
            var (node, ready) = stack.Pop();
            if (items.ContainsKey(node)) continue;
            if (!ready)
            {
                children.Clear();
                Children(node, lambda, children);
                stack.Push((node, true));
                for (var k = children.Count - 1; k >= 0; k--)
                    if (!items.ContainsKey(children[k])) stack.Push((children[k], false));
                continue;
            }
            items[node] = Build(node);
        }

        var output = AsGraph(lambda.Body, items[lambda.Body]);
        if (!isArray) return new LambdaGraph(output, [.. scalars]);
        var n = length ?? (elements.Count == 0 ? 0 : elements.Keys.Max() + 1);
        var inputs = ImmutableArray.CreateBuilder<Var>(n);
        for (var k = 0; k < n; k++) inputs.Add(elements.TryGetValue(k, out var v) ? v : Expr.Var($"{arrayName}[{k}]", Shape.Scalar));
        return new LambdaGraph(output, inputs.MoveToImmutable());

        Item Build(LinqExpression node)
        {
            Item Of(LinqExpression? e) => e is null ? Item.Value(null) : items[e];
            Expr Graph(LinqExpression e) => AsGraph(e, items[e]);
            switch (node)
            {
                case ParameterExpression p:
                    if (isArray) return Item.Array;
                    return Item.Of(scalars[parameters.IndexOf(p)]);
                case ConstantExpression c:
                    return Item.Value(c.Value);
                case MemberExpression m:
                {
                    var target = Of(m.Expression);
                    if (!target.IsKnown) throw Unsupported(node, $"Reading {m.Member.Name} of a parameter", "Only captured variables and static members are read.");
                    if (m.Expression is not null && target.Known is null) throw Unsupported(node, $"Reading {m.Member.Name} of null", "The captured object is null.");
                    return Item.Value(m.Member is FieldInfo field ? field.GetValue(target.Known) : ((PropertyInfo)m.Member).GetValue(target.Known));
                }
                case UnaryExpression u:
                {
                    var operand = Of(u.Operand);
                    switch (u.NodeType)
                    {
                        case ExpressionType.Convert or ExpressionType.ConvertChecked:
                            if (operand.IsKnown) return Item.Value(ToNumber(u, operand.Known, u.Type));
                            if (u.Type == typeof(double) && operand.Graph is not null) return operand;
                            throw Unsupported(node, $"A conversion to {u.Type.Name}", "A value that depends on the parameters stays a double: only constants and captured values may be converted.");
                        case ExpressionType.Negate or ExpressionType.NegateChecked:
                            return Item.Of(-Graph(u.Operand));
                        case ExpressionType.UnaryPlus:
                            return Item.Of(Graph(u.Operand));
                        case ExpressionType.Not:
                            return Item.Of(1.0 - Mask(u.Operand));
                    }
                    break;
                }
                case BinaryExpression b:
                    switch (b.NodeType)
                    {
                        case ExpressionType.Add or ExpressionType.AddChecked: return Item.Of(Graph(b.Left) + Graph(b.Right));
                        case ExpressionType.Subtract or ExpressionType.SubtractChecked: return Item.Of(Graph(b.Left) - Graph(b.Right));
                        case ExpressionType.Multiply or ExpressionType.MultiplyChecked: return Item.Of(Graph(b.Left) * Graph(b.Right));
                        case ExpressionType.Divide: return Item.Of(Graph(b.Left) / Graph(b.Right));
                        case ExpressionType.Power: return Item.Of(Pow(b.Left, b.Right));
                        case ExpressionType.LessThan: return Item.Of(Expr.Less(Graph(b.Left), Graph(b.Right)));
                        case ExpressionType.LessThanOrEqual: return Item.Of(Expr.LessEqual(Graph(b.Left), Graph(b.Right)));
                        case ExpressionType.GreaterThan: return Item.Of(Expr.Greater(Graph(b.Left), Graph(b.Right)));
                        case ExpressionType.GreaterThanOrEqual: return Item.Of(Expr.GreaterEqual(Graph(b.Left), Graph(b.Right)));
                        case ExpressionType.Equal: return Item.Of(Expr.Equal(Graph(b.Left), Graph(b.Right)));
                        case ExpressionType.NotEqual: return Item.Of(1.0 - Expr.Equal(Graph(b.Left), Graph(b.Right)));
                        case ExpressionType.AndAlso: return Item.Of(Mask(b.Left) * Mask(b.Right));
                        case ExpressionType.OrElse: return Item.Of(Expr.Maximum(Mask(b.Left), Mask(b.Right)));
                        case ExpressionType.ArrayIndex:
                        {
                            var array = Of(b.Left);
                            var index = Of(b.Right);
                            if (!index.IsKnown)
                                throw Unsupported(b.Right, "An array index that depends on the parameters", "Index the array with a constant or a captured int.");
                            var k = (int)ToNumber(b.Right, index.Known, typeof(int));
                            if (array.IsKnown) return Item.Value(((Array)array.Known!).GetValue(k));
                            if (k < 0 || k >= length)
                                throw new ArgumentOutOfRangeException("f", k, UserCode.Mark(
                                    $"The lambda reads {arrayName}[{k}] (at `{Describe(node)}` in `{Describe(lambda)}`), {(length is { } l ? $"outside an array of length {l}: read indices from 0 to {l - 1}, or give a larger length." : "a negative index: read indices from 0 up.")}"));
                            if (!elements.TryGetValue(k, out var element)) elements[k] = element = Expr.Var($"{arrayName}[{k}]", Shape.Scalar);
                            return Item.Of(element);
                        }
                    }
                    break;
                case ConditionalExpression c:
                    return Item.Of(Expr.Where(Mask(c.Test), Graph(c.IfTrue), Graph(c.IfFalse)));
                case MethodCallExpression call:
                {
                    var a = call.Arguments;
                    return Item.Of(call.Method.Name switch
                    {
                        "Exp" => Expr.Exp(Graph(a[0])),
                        "Log" => Expr.Log(Graph(a[0])),
                        "Sin" => Expr.Sin(Graph(a[0])),
                        "Cos" => Expr.Cos(Graph(a[0])),
                        "Tan" => Expr.Sin(Graph(a[0])) / Expr.Cos(Graph(a[0])),
                        "Tanh" => Expr.Tanh(Graph(a[0])),
                        "Sqrt" => Expr.Sqrt(Graph(a[0])),
                        "Abs" => Expr.Abs(Graph(a[0])),
                        "Pow" => Pow(a[0], a[1]),
                        "Max" => Expr.Maximum(Graph(a[0]), Graph(a[1])),
                        _ => Expr.Minimum(Graph(a[0]), Graph(a[1])),
                    });
                }
            }
            throw Unsupported(node, $"A {node.NodeType} node", Surface);
        }

        Expr Pow(LinqExpression x, LinqExpression p) =>
            items[p] is { IsKnown: true } e && ToNumber(p, e.Known, typeof(double)) is double c && double.IsFinite(c)
                ? Expr.Pow(AsGraph(x, items[x]), c)
                : Expr.Pow(AsGraph(x, items[x]), AsGraph(p, items[p]));

        Expr Mask(LinqExpression test) =>
            items[test] is { IsKnown: true, Known: bool b } ? Expr.Const(b ? 1.0 : 0.0) : AsGraph(test, items[test]);

        Expr AsGraph(LinqExpression e, Item item)
        {
            if (item.Graph is { } g) return g;
            if (item.IsArray) throw Unsupported(e, "The array itself", "Read its elements at constant indices (a[0], a[1]); the array as a whole (its Length, passing it on) is not traced.");
            if (item.Known is bool flag) return Expr.Const(flag ? 1.0 : 0.0);
            return Expr.Const((double)ToNumber(e, item.Known, typeof(double)));
        }

        object ToNumber(LinqExpression e, object? value, Type type)
        {
            if (value is IConvertible and not (string or char or DateTime) && (type.IsPrimitive || type == typeof(decimal)) && type != typeof(char))
            {
                try
                {
                    return System.Convert.ChangeType(value, type, CultureInfo.InvariantCulture);
                }
                catch (OverflowException) { }
            }
            throw Unsupported(e, $"A value of type {value?.GetType().Name ?? "null"} used as {type.Name}", "Capture numbers (double, float, int, long): they are read now, converted to double, and baked into the graph.");
        }

        UnsupportedExpressionException Unsupported(LinqExpression node, string what, string fix) =>
            new(node.NodeType, what, Describe(node), Describe(lambda), fix);
    }

    /// <summary>
    /// The sub-expressions of <paramref name="node"/> to translate before it, after checking the node is supported
    /// (so the first unsupported node met from the root is the one reported).
    /// </summary>
    private static void Children(LinqExpression node, LambdaExpression lambda, List<LinqExpression> children)
    {
        UnsupportedExpressionException Unsupported(string what, string fix) => new(node.NodeType, what, Describe(node), Describe(lambda), fix);
        if (node.NodeType.ToString().EndsWith("Assign", StringComparison.Ordinal))
            throw Unsupported($"An assignment ({node.NodeType})", "A traced lambda cannot change variables: compute the value as one expression." + ByGraph);
        switch (node)
        {
            case ParameterExpression p:
                if (!lambda.Parameters.Contains(p))
                    throw Unsupported($"The parameter {p.Name} of a nested lambda or block", "Nested lambdas and blocks are not traced: inline their bodies.");
                return;
            case ConstantExpression:
                return;
            case MemberExpression m:
                if (m.Member is not (FieldInfo or PropertyInfo))
                    throw Unsupported($"Reading {m.Member.Name}", "Only fields and properties are read.");
                if (m.Expression is { } target) children.Add(target);
                return;
            case UnaryExpression u when u.Method is null && u.NodeType is ExpressionType.Convert or ExpressionType.ConvertChecked
                or ExpressionType.Negate or ExpressionType.NegateChecked or ExpressionType.UnaryPlus or ExpressionType.Not:
                if (u.NodeType is ExpressionType.Negate or ExpressionType.NegateChecked or ExpressionType.UnaryPlus && u.Type != typeof(double))
                    throw Unsupported($"{u.NodeType} on {u.Type.Name}", "Arithmetic is traced on doubles only: write it on doubles, or compute it outside the lambda and capture the result.");
                if (u.NodeType is ExpressionType.Not && u.Type != typeof(bool))
                    throw Unsupported($"Not on {u.Type.Name}", "Only ! on a condition is traced.");
                children.Add(u.Operand);
                return;
            case UnaryExpression { NodeType: ExpressionType.ArrayLength }:
                throw Unsupported("The array's Length", "The length is fixed when the lambda is compiled (the highest index read + 1, or the length you give): capture it as a number if you need it.");
            case BinaryExpression b:
                switch (b.NodeType)
                {
                    case ExpressionType.Add or ExpressionType.AddChecked or ExpressionType.Subtract or ExpressionType.SubtractChecked
                        or ExpressionType.Multiply or ExpressionType.MultiplyChecked or ExpressionType.Divide or ExpressionType.Power:
                        if (b.Type != typeof(double) || b.Method is not null)
                            throw Unsupported($"{b.NodeType} on {b.Left.Type.Name} and {b.Right.Type.Name}", "Arithmetic is traced on doubles only: write it on doubles, or compute it outside the lambda and capture the result.");
                        break;
                    case ExpressionType.LessThan or ExpressionType.LessThanOrEqual or ExpressionType.GreaterThan or ExpressionType.GreaterThanOrEqual
                        or ExpressionType.Equal or ExpressionType.NotEqual:
                        if (b.Method is not null || !IsNumber(b.Left.Type) || !IsNumber(b.Right.Type))
                            throw Unsupported($"{b.NodeType} on {b.Left.Type.Name} and {b.Right.Type.Name}", "Comparisons are traced on numbers only.");
                        break;
                    case ExpressionType.AndAlso or ExpressionType.OrElse:
                        if (b.Method is not null || b.Type != typeof(bool))
                            throw Unsupported($"{b.NodeType} on {b.Type.Name}", "Only && and || of conditions are traced.");
                        break;
                    case ExpressionType.ArrayIndex:
                        if (ReadsParameter(b.Right, lambda))
                            throw new UnsupportedExpressionException(b.Right.NodeType, "An array index that depends on the parameters", Describe(b.Right), Describe(lambda),
                                "Index the array with a constant or a captured int: the graph is fixed when the lambda is translated.");
                        break;
                    case ExpressionType.Modulo:
                        throw Unsupported("The remainder %", "% has no useful derivative: compute it outside the lambda, or write it as x - k * divisor with k chosen by ?:.");
                    default:
                        throw Unsupported($"A {b.NodeType} node", Surface);
                }
                children.Add(b.Left);
                children.Add(b.Right);
                return;
            case ConditionalExpression c:
                if (c.Type != typeof(double))
                    throw Unsupported($"A conditional of type {c.Type.Name}", "Only c ? a : b choosing between doubles is traced.");
                children.Add(c.Test);
                children.Add(c.IfTrue);
                children.Add(c.IfFalse);
                return;
            case MethodCallExpression call:
            {
                var method = call.Method;
                var name = $"{method.DeclaringType?.Name}.{method.Name}";
                var ps = method.GetParameters();
                var arity = method.Name is "Pow" or "Max" or "Min" ? 2 : 1;
                if (method.DeclaringType != typeof(Math) || !MathFunctions.Contains(method.Name))
                    throw Unsupported($"The call to {name}", Surface + ByGraph);
                if (ps.Length != arity || ps.Any(p => p.ParameterType != typeof(double)) || method.ReturnType != typeof(double))
                    throw Unsupported($"The call to {name}({string.Join(", ", ps.Select(p => p.ParameterType.Name))})",
                        $"Math.{method.Name} is traced on doubles only{(method.Name == "Log" ? ", with one argument (write Math.Log(x) / Math.Log(b) for another base)" : "")}.");
                children.AddRange(call.Arguments);
                return;
            }
            case LambdaExpression or InvocationExpression:
                throw Unsupported($"A {node.NodeType} node", "Nested lambdas and delegate calls are not traced: inline the function's body." + ByGraph);
            case BlockExpression or LoopExpression or GotoExpression or LabelExpression or TryExpression or SwitchExpression:
                throw Unsupported($"A {node.NodeType} node", "Statements (blocks, loops, jumps, try, switch) are not traced: write the body as one expression, with ?: for choices." + ByGraph);
            case BinaryExpression or UnaryExpression:
                break;
        }
        throw Unsupported($"A {node.NodeType} node", Surface + ByGraph);
    }

    /// <summary>True when the expression reads a parameter of the lambda (iterative).</summary>
    private static bool ReadsParameter(LinqExpression e, LambdaExpression lambda)
    {
        var stack = new Stack<LinqExpression>();
        stack.Push(e);
        while (stack.Count > 0)
        {
            var node = stack.Pop();
            if (node is ParameterExpression p && lambda.Parameters.Contains(p)) return true;
            foreach (var child in Inner(node))
                if (child is not null) stack.Push(child);
        }
        return false;
    }

    private static bool IsNumber(Type t) =>
        t == typeof(double) || t == typeof(float) || t == typeof(int) || t == typeof(long) || t == typeof(short) || t == typeof(byte)
        || t == typeof(uint) || t == typeof(ulong) || t == typeof(ushort) || t == typeof(sbyte) || t == typeof(decimal);

    /// <summary>The most characters of an expression's text a message shows.</summary>
    private const int MaxText = 200;

    /// <summary>How deep an expression may nest for its text to be rendered (the runtime's printer recurses).</summary>
    private const int MaxRenderDepth = 400;

    /// <summary>
    /// An expression's text, bounded: <see cref="LinqExpression.ToString"/> cut at <see cref="MaxText"/> characters, or,
    /// for an expression nested deeper than the runtime's recursive printer can safely go, its kind and depth.
    /// </summary>
    internal static string Describe(LinqExpression e)
    {
        var depth = Depth(e, MaxRenderDepth + 1);
        if (depth > MaxRenderDepth) return $"({e.NodeType} expression nested more than {MaxRenderDepth} deep)";
        var text = e.ToString();
        return text.Length <= MaxText ? text : text[..MaxText] + "…";
    }

    /// <summary>The nesting depth of an expression, counted up to <paramref name="limit"/> (iterative).</summary>
    private static int Depth(LinqExpression root, int limit)
    {
        var stack = new Stack<(LinqExpression, int)>();
        stack.Push((root, 1));
        var max = 0;
        while (stack.Count > 0)
        {
            var (e, d) = stack.Pop();
            if (d > max) max = d;
            if (max >= limit) return max;
            foreach (var child in Inner(e))
                if (child is not null) stack.Push((child, d + 1));
        }
        return max;
    }

    private static IEnumerable<LinqExpression?> Inner(LinqExpression e) => e switch
    {
        BinaryExpression b => [b.Left, b.Right],
        UnaryExpression u => [u.Operand],
        ConditionalExpression c => [c.Test, c.IfTrue, c.IfFalse],
        MethodCallExpression m => [m.Object!, .. m.Arguments],
        MemberExpression m => [m.Expression!],
        InvocationExpression i => [i.Expression, .. i.Arguments],
        LambdaExpression l => [l.Body],
        BlockExpression b => b.Expressions!,
        NewArrayExpression n => n.Expressions!,
        NewExpression n => n.Arguments!,
        IndexExpression i => [i.Object!, .. i.Arguments],
        LoopExpression l => [l.Body],
        TypeBinaryExpression t => [t.Expression],
        _ => [],
    };
}
