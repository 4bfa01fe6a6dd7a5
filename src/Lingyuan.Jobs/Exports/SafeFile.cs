using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Lingyuan.Jobs.Hosting;

namespace Lingyuan.Jobs.Exports;

/// <summary>
/// The one way a verb writes a file it was given on the command line (<c>batch export --out</c>,
/// <c>import --rejects</c>). The target must be a regular file or not exist yet: a device (<c>/dev/null</c>,
/// <c>/dev/stdout</c>), a directory, a symbolic link (never followed), a FIFO or a socket is refused, and an
/// existing file is replaced only with <c>--force</c>. The content goes to a uniquely named temporary file
/// beside the target (<c>.NAME.&lt;random&gt;.partial</c>, created exclusively), is flushed to disk, and is then
/// renamed over the target in one step: a reader sees the old file or the whole new one, never half of it.
/// On any failure only that temporary file is deleted — never a file this code did not create.
/// Refusals are usage errors (exit 64), one line in English and Chinese.
/// </summary>
public static class SafeFile
{
    /// <summary>
    /// Refuses a target that must not be written (see the class); returns its full path. Call it before any
    /// work whose result the file is meant to hold, so a refused target costs nothing and changes nothing.
    /// </summary>
    public static string CheckTarget(string path, bool force, string option)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new UsageException($"{option} needs a file path / {option} 需要文件路径");
        string full;
        try { full = Path.GetFullPath(path); }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new UsageException($"{option} {path}: not a usable path / 路径无效");
        }
        if (Path.EndsInDirectorySeparator(full) || Path.GetFileName(full).Length == 0)
            throw new UsageException($"{option} {path}: is a directory, expected a file path / 目标是目录,请指定文件路径");
        var dir = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(dir))
            throw new UsageException($"{option} {path}: the directory {dir} does not exist / 目录不存在");
        switch (TypeOf(full))
        {
            case EntryType.None:
                break;
            case EntryType.Regular:
                if (!force)
                    throw new UsageException($"{option} {path}: the file exists; add --force to replace it / 文件已存在,如需覆盖请加 --force");
                break;
            case EntryType.Directory:
                throw new UsageException($"{option} {path}: is a directory, expected a file path / 目标是目录,请指定文件路径");
            case EntryType.SymbolicLink:
                throw new UsageException($"{option} {path}: is a symbolic link, which is not followed; expected a regular file path / 目标是符号链接,不予写入,请指定普通文件路径");
            case EntryType.Device:
                throw new UsageException($"{option} {path}: is a device, expected a regular file path / 目标是设备文件,请指定普通文件路径");
            default:
                throw new UsageException($"{option} {path}: is a named pipe or socket, expected a regular file path / 目标是管道或套接字,请指定普通文件路径");
        }
        return full;
    }

    /// <summary>
    /// Checks the target, lets <paramref name="write"/> fill a new temporary file beside it, flushes it to disk and
    /// renames it over the target. If <paramref name="write"/> throws, the temporary file is deleted and the target
    /// is left as it was.
    /// </summary>
    public static async Task<T> WriteAsync<T>(string path, bool force, string option, Func<Stream, CancellationToken, Task<T>> write, CancellationToken ct)
    {
        var full = CheckTarget(path, force, option);
        var tmp = Path.Combine(Path.GetDirectoryName(full)!,
            $".{Path.GetFileName(full)}.{RandomNumberGenerator.GetHexString(12, lowercase: true)}.partial");
        FileStream fs;
        try
        {
            // CreateNew: O_CREAT|O_EXCL, so an existing file or a link planted under this name is never opened.
            fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"{option} {path}: cannot create a file in {Path.GetDirectoryName(full)} ({ex.Message}) / 无法在该目录创建文件");
        }
        try
        {
            T result;
            await using (fs)
            {
                result = await write(fs, ct);
                await fs.FlushAsync(ct);
                fs.Flush(flushToDisk: true);
            }
            // The target may have appeared or changed while the content was written: the same rules again.
            CheckTarget(path, force, option);
            try
            {
                // Without --force the move does not replace (link + unlink on Unix): a file that appeared since is kept.
                File.Move(tmp, full, overwrite: force);
            }
            catch (IOException) when (!force && TypeOf(full) != EntryType.None)
            {
                throw new UsageException($"{option} {path}: the file exists; add --force to replace it / 文件已存在,如需覆盖请加 --force");
            }
            return result;
        }
        catch
        {
            try { File.Delete(tmp); }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { /* the first failure is what matters */ }
            throw;
        }
    }

    internal enum EntryType { None, Regular, Directory, SymbolicLink, Device, Other }

    /// <summary>What is at <paramref name="full"/> itself (a link is not followed): lstat semantics.</summary>
    internal static EntryType TypeOf(string full)
    {
        if (OperatingSystem.IsLinux())
        {
            var buffer = new byte[StatxSize];
            if (Statx(AtFdCwd, full, AtSymlinkNoFollow, StatxType, buffer) == 0)
            {
                return (BitConverter.ToUInt16(buffer, StatxModeOffset) & 0xF000) switch
                {
                    0x8000 => EntryType.Regular,
                    0x4000 => EntryType.Directory,
                    0xA000 => EntryType.SymbolicLink,
                    0x2000 or 0x6000 => EntryType.Device, // character, block
                    _ => EntryType.Other, // FIFO, socket
                };
            }
            var errno = Marshal.GetLastPInvokeError();
            if (errno == 2) return EntryType.None; // ENOENT
            throw new UsageException($"{full}: cannot be examined ({Marshal.GetPInvokeErrorMessage(errno)}) / 无法读取目标文件信息");
        }
        // Elsewhere (development machines) .NET tells links and directories apart, not devices.
        var info = new FileInfo(full);
        if (info.LinkTarget is not null) return EntryType.SymbolicLink;
        if (Directory.Exists(full)) return EntryType.Directory;
        return info.Exists ? EntryType.Regular : EntryType.None;
    }

    // statx(2): its struct has the same layout on every Linux architecture (unlike struct stat); stx_mode is the
    // u16 at offset 28, after stx_mask, stx_blksize (u32), stx_attributes (u64), stx_nlink, stx_uid, stx_gid (u32).
    private const int AtFdCwd = -100, AtSymlinkNoFollow = 0x100, StatxSize = 256, StatxModeOffset = 28;
    private const uint StatxType = 0x1;

    [DllImport("libc", EntryPoint = "statx", SetLastError = true)]
    private static extern int Statx(int dirfd, string path, int flags, uint mask, [Out] byte[] buffer);
}
