using Hurd.Tmpfs;

namespace Hurd.Translators.Tests;

/// <summary>The POSIX conformance suite on tmpfs.</summary>
public sealed class TmpfsConformanceTests : FileSystemConformanceTests
{
    protected override TestFileSystem CreateFileSystem()
    {
        var fs = new TmpfsFileSystem(TmpfsOptions.Default with { Mode = (FileMode)0x1ED });
        return new TestFileSystem(fs.Root, fs);
    }
}
