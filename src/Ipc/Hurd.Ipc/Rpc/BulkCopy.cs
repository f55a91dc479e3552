using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Hurd.Ipc.Rpc;

/// <summary>
/// Copies of large message bodies into shared memory that another CPU will read.
/// <para>
/// Why: the receiver read the previous message from the same call area, so every cache line of it is also in
/// the receiver's cache. An ordinary store must first take each line back from that CPU (a read-for-ownership
/// across CPUs, 30-500 ns per line on the development VM, host-dependent); a non-temporal store writes whole
/// lines to memory without reading them, and the receiver then streams them from memory. Measured with two
/// processes on two vCPUs, 1 MiB per transfer: ordinary copy 107-525 us, non-temporal 38 us (reader 12-40 us
/// either way). For a receiver on the writer's own CPU the lines would have stayed hot, so the transport asks
/// for this only when the peer last ran on another CPU.
/// </para>
/// </summary>
internal static class BulkCopy
{
    /// <summary>Below this size an ordinary copy is used (a few lines cost little either way).</summary>
    public const int Threshold = 32 << 10;

    /// <summary>Copies <paramref name="src"/> to the start of <paramref name="dst"/> (which must be at least as
    /// long). Overlapping ranges (a dispatch moving out data down in its own reply) use an ordinary move, and a
    /// range copied onto itself is left alone.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Copy(ReadOnlySpan<byte> src, Span<byte> dst, bool nonTemporal)
    {
        if (src.IsEmpty) return;
        ref byte s = ref MemoryMarshal.GetReference(src);
        ref byte d = ref MemoryMarshal.GetReference(dst);
        if (Unsafe.AreSame(ref s, ref d)) return;
        if (nonTemporal && src.Length >= Threshold && Avx.IsSupported && !src.Overlaps(dst)) CopyStreaming(src, dst);
        else src.CopyTo(dst);
    }

    private static unsafe void CopyStreaming(ReadOnlySpan<byte> src, Span<byte> dst)
    {
        fixed (byte* sp = src)
        fixed (byte* dp = dst)
        {
            byte* s = sp, d = dp;
            nuint n = (nuint)src.Length;
            // Head: ordinary stores up to a 32-byte boundary of the destination.
            nuint head = (nuint)(-(nint)d) & 31;
            Buffer.MemoryCopy(s, d, head, head);
            s += head; d += head; n -= head;
            while (n >= 128)
            {
                var a = Avx.LoadVector256(s);
                var b = Avx.LoadVector256(s + 32);
                var c = Avx.LoadVector256(s + 64);
                var e = Avx.LoadVector256(s + 96);
                Avx.StoreAlignedNonTemporal(d, a);
                Avx.StoreAlignedNonTemporal(d + 32, b);
                Avx.StoreAlignedNonTemporal(d + 64, c);
                Avx.StoreAlignedNonTemporal(d + 96, e);
                s += 128; d += 128; n -= 128;
            }
            Buffer.MemoryCopy(s, d, n, n);
            // Non-temporal stores are weakly ordered: make them visible before the message is published.
            Sse.StoreFence();
        }
    }
}
