//! The inputs of a command: files, folders walked for video files, or `-` for
//! standard input; and `--shard K/N`, which keeps one of N disjoint parts of them.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use stillframe::Error;

/// One input of a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Standard input, read whole into memory (containers are read out of order).
    Stdin,
    /// A file.
    File(PathBuf),
}

impl Input {
    /// How the input is named in messages and JSON: its path, or `-`.
    pub fn name(&self) -> String {
        match self {
            Input::Stdin => "-".to_owned(),
            Input::File(path) => path.display().to_string(),
        }
    }

    /// The file name without its extension, for `{stem}`; `stdin` for `-`.
    pub fn stem(&self) -> String {
        match self {
            Input::Stdin => "stdin".to_owned(),
            Input::File(path) => path
                .file_stem()
                .map(|stem| stem.to_string_lossy().into_owned())
                .unwrap_or_else(|| "input".to_owned()),
        }
    }
}

/// Extensions of the files a folder is searched for: every container and raw stream
/// stillframe opens.
const VIDEO_EXTENSIONS: [&str; 18] = [
    "mp4", "m4v", "mov", "qt", "3gp", "3g2", "mkv", "webm", "ivf", "obu", "264", "h264", "avc",
    "jsv", "26l", "265", "h265", "hevc",
];

/// A bound on the files a folder walk collects, so a stray `/` is an error, not a
/// walk of the whole disk into memory.
const MAX_INPUTS: usize = 1_000_000;

/// The inputs named on the command line in their order; each folder is replaced by
/// the video files under it (recursively), sorted by path.
pub fn expand(arguments: &[PathBuf]) -> Result<Vec<Input>, Error> {
    let mut inputs = Vec::new();
    for argument in arguments {
        if argument.as_os_str() == "-" {
            if inputs.contains(&Input::Stdin) {
                return Err(Error::unsupported(
                    "standard input (-) can be read only once",
                ));
            }
            inputs.push(Input::Stdin);
        } else if argument.is_dir() {
            let mut found = Vec::new();
            walk(argument, &mut found)?;
            found.sort();
            inputs.extend(found.into_iter().map(Input::File));
        } else {
            inputs.push(Input::File(argument.clone()));
        }
        if inputs.len() > MAX_INPUTS {
            return Err(Error::unsupported(format!(
                "more than {MAX_INPUTS} inputs; split the job with --shard"
            )));
        }
    }
    Ok(inputs)
}

fn walk(folder: &Path, found: &mut Vec<PathBuf>) -> Result<(), Error> {
    let entries = std::fs::read_dir(folder)
        .map_err(|e| Error::io(format!("reading folder {}", folder.display()), e))?;
    for entry in entries {
        let entry =
            entry.map_err(|e| Error::io(format!("reading folder {}", folder.display()), e))?;
        let path = entry.path();
        // Symbolic links to folders are not followed: a link cycle would never end.
        let kind = entry
            .file_type()
            .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
        if kind.is_dir() {
            walk(&path, found)?;
        } else if is_video(&path) {
            found.push(path);
            if found.len() > MAX_INPUTS {
                return Err(Error::unsupported(format!(
                    "more than {MAX_INPUTS} video files under {}",
                    folder.display()
                )));
            }
        }
    }
    Ok(())
}

fn is_video(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| VIDEO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// `--shard K/N`: part K (counted from 0, as batch engines number their array tasks)
/// of N.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// Which part, `0..count`.
    pub index: usize,
    /// How many parts.
    pub count: usize,
}

impl Shard {
    /// The inputs of this part: every N-th from the K-th, so parts are disjoint,
    /// together hold every input once, and differ in size by at most one.
    pub fn select(self, inputs: Vec<Input>) -> Vec<Input> {
        inputs
            .into_iter()
            .enumerate()
            .filter(|(position, _)| position % self.count == self.index)
            .map(|(_, input)| input)
            .collect()
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(text: &str) -> Result<Shard, String> {
        let usage = || format!("shard {text:?} is not K/N with 0 <= K < N, e.g. 0/4");
        let (index, count) = text.split_once('/').ok_or_else(usage)?;
        let index: usize = index.trim().parse().map_err(|_| usage())?;
        let count: usize = count.trim().parse().map_err(|_| usage())?;
        if count == 0 || index >= count {
            return Err(usage());
        }
        Ok(Shard { index, count })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    fn files(n: usize) -> Vec<Input> {
        (0..n)
            .map(|i| Input::File(PathBuf::from(format!("v{i:03}.mp4"))))
            .collect()
    }

    #[test]
    fn shards_partition_the_inputs() {
        for count in 1..=7 {
            let mut seen = Vec::new();
            for index in 0..count {
                let part = Shard { index, count }.select(files(23));
                assert!(part.len().abs_diff(23 / count) <= 1, "{index}/{count}");
                seen.extend(part);
            }
            seen.sort_by_key(Input::name);
            assert_eq!(
                seen,
                files(23),
                "parts of {count} do not cover each input once"
            );
        }
    }

    #[test]
    fn shard_syntax() {
        assert_eq!("2/5".parse(), Ok(Shard { index: 2, count: 5 }));
        for bad in ["5/5", "1/0", "1", "a/b", "-1/3"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn folders_are_walked_for_video_files_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("b");
        std::fs::create_dir(&nested).unwrap();
        for name in ["z.mp4", "a.MKV", "notes.txt", "b/c.webm", "b/d.264"] {
            std::fs::write(dir.path().join(name), b"").unwrap();
        }
        let names: Vec<String> = expand(&[dir.path().to_path_buf()])
            .unwrap()
            .iter()
            .map(|input| {
                let Input::File(path) = input else {
                    panic!("{input:?}")
                };
                path.strip_prefix(dir.path()).unwrap().display().to_string()
            })
            .collect();
        assert_eq!(names, ["a.MKV", "b/c.webm", "b/d.264", "z.mp4"]);
        assert!(expand(&[PathBuf::from("-"), PathBuf::from("-")]).is_err());
    }
}
