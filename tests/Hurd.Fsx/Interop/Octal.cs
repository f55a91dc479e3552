namespace Hurd.Fsx.Interop;

/// <summary>C# has no octal literals: <c>O(644)</c> reads its decimal digits as octal (0644 = 420).</summary>
internal static class Octal
{
    /// <summary>The value of <paramref name="digits"/> read as an octal number.</summary>
    public static int O(int digits)
    {
        int v = 0, scale = 1;
        for (; digits > 0; digits /= 10, scale *= 8) v += digits % 10 * scale;
        return v;
    }
}
