// net8.0 has no Vector128/256/512.FusedMultiplyAdd (they came with .NET 9). These static extensions give the net8.0
// build the same operation under the same name, so the kernels (Ops/Kernels/Lanes.cs) are one source for both
// targets: the hardware's fused multiply-add where the processor has one, else Math.FusedMultiplyAdd per element.
// Both round a·b + c once, as .NET 9's methods do, so every lane has the same bits on either target.
#if !NET9_0_OR_GREATER
using System;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using X86 = System.Runtime.Intrinsics.X86;

namespace Functional.Autodiff;

internal static class FusedMultiplyAddCompatibility
{
    extension(Vector128)
    {
        public static Vector128<double> FusedMultiplyAdd(Vector128<double> a, Vector128<double> b, Vector128<double> c)
        {
            if (X86.Fma.IsSupported) return X86.Fma.MultiplyAdd(a, b, c);
            if (AdvSimd.Arm64.IsSupported) return AdvSimd.Arm64.FusedMultiplyAdd(c, a, b);
            return Vector128.Create(
                Math.FusedMultiplyAdd(a.GetElement(0), b.GetElement(0), c.GetElement(0)),
                Math.FusedMultiplyAdd(a.GetElement(1), b.GetElement(1), c.GetElement(1)));
        }
    }

    extension(Vector256)
    {
        public static Vector256<double> FusedMultiplyAdd(Vector256<double> a, Vector256<double> b, Vector256<double> c)
        {
            if (X86.Fma.IsSupported) return X86.Fma.MultiplyAdd(a, b, c);
            return Vector256.Create(
                Vector128.FusedMultiplyAdd(a.GetLower(), b.GetLower(), c.GetLower()),
                Vector128.FusedMultiplyAdd(a.GetUpper(), b.GetUpper(), c.GetUpper()));
        }
    }

    extension(Vector512)
    {
        public static Vector512<double> FusedMultiplyAdd(Vector512<double> a, Vector512<double> b, Vector512<double> c)
        {
            if (X86.Avx512F.IsSupported) return X86.Avx512F.FusedMultiplyAdd(a, b, c);
            return Vector512.Create(
                Vector256.FusedMultiplyAdd(a.GetLower(), b.GetLower(), c.GetLower()),
                Vector256.FusedMultiplyAdd(a.GetUpper(), b.GetUpper(), c.GetUpper()));
        }
    }
}
#endif
