using Hurd.Translators.Fuse;
using Hurd.Translators.Hosting;
using Xunit;

namespace Hurd.Translators.Tests;

/// <summary>The bridge's caching options on a translator's FUSE command line (libfuse's names, also on an fstab line).</summary>
public sealed class HostOptionsTests
{
    [Fact(Timeout = 10_000)]
    public async Task Bridge_options_are_taken_in_libfuse_names_and_bad_values_refused()
    {
        await Task.Run(() =>
        {
            var bo = new FuseBridgeOptions();
            Assert.True(TranslatorHost.TakeBridgeOption("entry_timeout=0", bo));
            Assert.Equal(TimeSpan.Zero, bo.EntryTimeout);
            Assert.True(TranslatorHost.TakeBridgeOption("attr_timeout=2.5", bo));
            Assert.Equal(TimeSpan.FromSeconds(2.5), bo.AttrTimeout);
            Assert.True(TranslatorHost.TakeBridgeOption("negative_timeout=1", bo));
            Assert.Equal(TimeSpan.FromSeconds(1), bo.NegativeTimeout);
            Assert.True(TranslatorHost.TakeBridgeOption("noauto_cache", bo));
            Assert.False(bo.AutoCache);
            Assert.True(TranslatorHost.TakeBridgeOption("kernel_cache", bo));
            Assert.True(bo.KeepCache);
            Assert.True(TranslatorHost.TakeBridgeOption("auto_cache", bo));
            Assert.True(bo.AutoCache);
            Assert.False(bo.KeepCache);
            Assert.True(TranslatorHost.TakeBridgeOption("readdirplus=no", bo));
            Assert.False(bo.ReaddirPlus);

            foreach (string bad in new[] { "entry_timeout=soon", "attr_timeout=-1", "negative_timeout=", "entry_timeout", "readdirplus=maybe", "attr_timeout=NaN" })
                Assert.False(TranslatorHost.TakeBridgeOption(bad, new FuseBridgeOptions()));
            // Not the bridge's: left to the translator (hello's --contents=, tmpfs's size=...).
            Assert.Null(TranslatorHost.TakeBridgeOption("contents=hi", bo));
            Assert.Null(TranslatorHost.TakeBridgeOption("size=64M", bo));
            Assert.Null(TranslatorHost.TakeBridgeOption("kernel_cache=1", bo));
        });
    }
}
