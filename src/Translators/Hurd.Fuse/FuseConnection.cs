using Hurd.Fuse.Abi;

namespace Hurd.Fuse;

/// <summary>
/// The INIT negotiation: what this side wants (set before the session starts, or in
/// <see cref="FuseFileSystem.Init"/>) and, once INIT is answered, what the kernel offered and what was agreed.
/// </summary>
public sealed class FuseConnection
{
    /// <summary>The flags asked for by default: ASYNC_READ, ASYNC_DIO, ATOMIC_O_TRUNC, BIG_WRITES, MAX_PAGES,
    /// PARALLEL_DIROPS, DO_READDIRPLUS and READDIRPLUS_AUTO (libfuse's and go-fuse's defaults). Not EXPORT_SUPPORT.</summary>
    public const InitFlags DefaultWant = InitFlags.AsyncRead | InitFlags.AsyncDio | InitFlags.AtomicOTrunc | InitFlags.BigWrites
        | InitFlags.MaxPages | InitFlags.ParallelDirops | InitFlags.DoReaddirplus | InitFlags.ReaddirplusAuto;

    /// <summary>Default <see cref="MaxWrite"/>: 1 MiB (256 pages, the kernel's max_pages_limit here).</summary>
    public const uint DefaultMaxWrite = 1024 * 1024;

    /// <summary>Flags to ask for; the reply carries <c>Want &amp; KernelFlags</c>.</summary>
    public InitFlags Want { get; set; } = DefaultWant;
    /// <summary>Largest WRITE payload; with MAX_PAGES also sets max_pages. Session buffers are this plus 4 KiB.</summary>
    public uint MaxWrite { get; set; } = DefaultMaxWrite;
    /// <summary>Readahead limit to ask for; 0 means the kernel's offer. Never more than the kernel's offer.</summary>
    public uint MaxReadahead { get; set; }
    /// <summary>max_background (0: the kernel's default, 12).</summary>
    public ushort MaxBackground { get; set; }
    /// <summary>congestion_threshold (0: the kernel's default, 3/4 of max_background).</summary>
    public ushort CongestionThreshold { get; set; }
    /// <summary>
    /// Answer OPEN and CREATE of a file opened write-only with FOPEN_DIRECT_IO (default true; <c>-o
    /// nodirect_io_writeonly</c> turns it off). In the page cache's write-through mode the kernel ends a WRITE at the
    /// first page it fills only in part, so a write(2) that starts or ends inside a page becomes two WRITEs: tar's
    /// unaligned writes cost 4.8 WRITEs per file of an untar where direct I/O sends 3.1, one per write(2). What is
    /// given up is small: a write-only descriptor cannot be mmapped, the kernel
    /// invalidates any page another descriptor cached in the written range before the write is sent (fuse_direct_io),
    /// and only later reads of what was just written miss the page cache.
    /// </summary>
    public bool WriteOnlyDirectIo { get; set; } = true;
    /// <summary>Timestamp granularity in nanoseconds (1: full nanoseconds).</summary>
    public uint TimeGran { get; set; } = 1;

    /// <summary>The kernel's major protocol version (after INIT).</summary>
    public uint KernelMajor { get; internal set; }
    /// <summary>The kernel's minor protocol version (after INIT).</summary>
    public uint KernelMinor { get; internal set; }
    /// <summary>The flags the kernel offered (after INIT), the upper half from flags2 when INIT_EXT is set.</summary>
    public InitFlags KernelFlags { get; internal set; }
    /// <summary>The kernel's readahead offer (after INIT).</summary>
    public uint KernelMaxReadahead { get; internal set; }
    /// <summary>The agreed minor version: min(45, the kernel's) (after INIT).</summary>
    public uint Minor { get; internal set; }
    /// <summary>The agreed flags (after INIT).</summary>
    public InitFlags Flags { get; internal set; }

    /// <summary>True if <paramref name="flag"/> was agreed.</summary>
    public bool Has(InitFlags flag) => (Flags & flag) == flag;
}
