using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Runtime.CompilerServices;

namespace Functional.Autodiff;

// Functions that return a loss together with auxiliary values that are not differentiated (JAX's has_aux).
public static partial class AD
{
    /// <summary>
    /// f(x)'s loss, its gradient, and the auxiliary values f returned beside it (not differentiated; graphs in it
    /// carry their values). JAX's <c>value_and_grad(f, has_aux=True)</c>.
    /// </summary>
    /// <exception cref="NonScalarOutputException">The loss is not a scalar.</exception>
    // Preferred over the Params overload when a lambda ignores its parameter (x => Expr.Const(1.0)), which fits both.
    [OverloadResolutionPriority(1)]
    public static Func<Value, (Value Value, Value Grad, TAux Aux)> ValueAndGradWithAux<TAux>(Func<Expr, (Expr Loss, TAux Aux)> f) =>
        ValueAndGradWithAux<Value, Expr, TAux>(f);

    /// <summary>The same for named parameters, optionally differentiating only the parameters named in <paramref name="wrt"/>.</summary>
    /// <exception cref="NonScalarOutputException">The loss is not a scalar.</exception>
    public static Func<Params, (Value Value, Params Grad, TAux Aux)> ValueAndGradWithAux<TAux>(Func<ParamVars, (Expr Loss, TAux Aux)> f, IEnumerable<string>? wrt = null)
    {
        var chosen = wrt?.ToArray();
        var vg = ValueAndGradWithAux<Params, ParamVars, TAux>(f, chosen is null ? null : Wrt.Names(chosen));
        return p =>
        {
            Guard.NotNull(p);
            var (y, g, aux) = vg(p);
            return (y, Restrict(g, chosen), aux);
        };
    }
}
