using System;
using System.Globalization;
using System.Linq;
using System.Text.RegularExpressions;

namespace Functional.Autodiff.Tour;

/// <summary>
/// How a tutorial's printed numbers are read and when the library's number reproduces one: the rule the tour's
/// table (<see cref="Report"/>) and the docs pages (docs/.helpers/check.fsx, which references this assembly) share.
/// A library number agrees when it rounds to what the tutorial printed, at the decimals the tutorial shows
/// ("40.5000" allows ±0.00005); a number printed without decimals ("72." or "12") must agree to 1e-9 relative.
/// </summary>
public static partial class TutorialNumbers
{
    /// <summary>
    /// The numbers a tutorial printed, as written (<c>"9."</c>, <c>"40.5000"</c>, <c>"-1.5694"</c>), in reading order
    /// (row by row for a matrix). PyTorch's annotations are skipped (<c>grad_fn=&lt;MulBackward0&gt;</c>,
    /// <c>requires_grad=True</c>, <c>dtype=torch.float64</c>), and so are digits inside words.
    /// </summary>
    /// <example><c>Parse("tensor([0., 2.], grad_fn=&lt;MulBackward0&gt;)")</c> is <c>["0.", "2."]</c>.</example>
    public static string[] Parse(string printed)
    {
        ArgumentNullException.ThrowIfNull(printed);
        var plain = AnnotationPattern().Replace(printed, "");
        return NumberPattern().Matches(plain).Select(m => m.Value).ToArray();
    }

    /// <summary>How many decimals a printed number shows (<c>"40.5000"</c> has 4, <c>"72."</c> and <c>"12"</c> none).</summary>
    public static int Decimals(string number)
    {
        ArgumentNullException.ThrowIfNull(number);
        var mantissa = ExponentPattern().Replace(number, "");
        var dot = mantissa.IndexOf('.');
        return dot < 0 ? 0 : mantissa.Length - dot - 1;
    }

    /// <summary>The largest difference from the printed number that still rounds to it.</summary>
    public static double Tolerance(string printed)
    {
        var expected = double.Parse(printed, CultureInfo.InvariantCulture);
        var decimals = Decimals(printed);
        return decimals > 0 ? 0.5 * Math.Pow(10, -decimals) * (1 + 1e-9) : 1e-9 * Math.Max(1, Math.Abs(expected));
    }

    /// <summary>The library's number agrees with the printed one at the printed precision.</summary>
    public static bool Agrees(double actual, string printed) =>
        Math.Abs(actual - double.Parse(printed, CultureInfo.InvariantCulture)) <= Tolerance(printed);

    /// <summary>The library's number with <paramref name="decimals"/> decimals, never "-0".</summary>
    public static string Format(double actual, int decimals) =>
        (actual == 0 ? 0.0 : actual).ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    [GeneratedRegex(@"\b[A-Za-z_]\w*\s*=\s*(<[^>]*>|[^,)\]]*)")]
    private static partial Regex AnnotationPattern();

    [GeneratedRegex(@"(?<![\w.])-?\d+(\.\d*)?([eE][-+]?\d+)?")]
    private static partial Regex NumberPattern();

    [GeneratedRegex("[eE].*$")]
    private static partial Regex ExponentPattern();
}
