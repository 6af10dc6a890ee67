//! Behaviour of the git repo store (`grove_storage::git`), on real bare repos in a tempdir.
//!
//! The last test also reads the repos back with the `git` command-line tool, if it is installed
//! (with `GROVE_TEST_REQUIRE_SERVICES=1` a missing `git` fails the test instead).

use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Barrier};

use grove_storage::git::{
    Author, CommitId, CommitRequest, DEFAULT_GITATTRIBUTES, Entry, EntryKind, GitError, GitRepo,
    GitStore, INITIAL_COMMIT_TITLE, LfsPointer, Op, RepoPath, RevKind, git_blob_id,
    git_blob_id_of_file,
};

// ---------------------------------------------------------------------------------------------
// Helpers

fn store() -> (tempfile::TempDir, GitStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = GitStore::new(dir.path().join("repos"));
    (dir, store)
}

fn author() -> Author {
    Author::new("alice", "alice@users.noreply.grove")
}

fn new_repo(store: &GitStore, key: &str) -> (GitRepo, CommitId) {
    let first = store.create(key, &author(), DEFAULT_GITATTRIBUTES).unwrap();
    (store.open(key).unwrap(), first)
}

fn path(p: &str) -> RepoPath {
    RepoPath::parse(p).unwrap()
}

fn put(repo: &GitRepo, p: &str, bytes: &[u8]) -> Op {
    Op::Put {
        path: path(p),
        blob_oid: repo.write_blob(bytes).unwrap(),
        executable: false,
    }
}

fn delete(p: &str) -> Op {
    Op::Delete { path: path(p) }
}

fn delete_folder(p: &str) -> Op {
    Op::DeleteFolder {
        path: RepoPath::parse_folder(p).unwrap(),
    }
}

fn request(branch: &str, parent: Option<&str>, ops: Vec<Op>, title: &str) -> CommitRequest {
    CommitRequest {
        branch: branch.to_owned(),
        expected_parent: parent.map(str::to_owned),
        ops,
        title: title.to_owned(),
        description: String::new(),
        author: author(),
    }
}

fn commit(repo: &GitRepo, ops: Vec<Op>) -> CommitId {
    repo.commit(request("main", None, ops, "change")).unwrap()
}

fn tip(repo: &GitRepo, rev: &str) -> CommitId {
    repo.resolve(rev).unwrap().unwrap().commit
}

fn listing(repo: &GitRepo, at: &CommitId, dir: Option<&str>, recursive: bool) -> Vec<String> {
    let dir = dir.map(path);
    repo.list(at, dir.as_ref(), recursive)
        .unwrap()
        .unwrap()
        .into_iter()
        .map(|e| match e.kind {
            EntryKind::Dir => format!("{}/", e.path),
            EntryKind::File => e.path,
        })
        .collect()
}

fn all_files(repo: &GitRepo, at: &CommitId) -> BTreeSet<String> {
    repo.list(at, None, true)
        .unwrap()
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == EntryKind::File)
        .map(|e| e.path)
        .collect()
}

fn read(repo: &GitRepo, at: &CommitId, p: &str) -> Vec<u8> {
    let entry = repo.entry(at, &path(p)).unwrap().unwrap();
    repo.read_blob(&entry.oid).unwrap()
}

const SHA: &str = "4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393";

// ---------------------------------------------------------------------------------------------
// Creating, opening, deleting

#[test]
fn create_open_delete() {
    let (_dir, store) = store();
    assert!(!store.exists("models/1").unwrap());
    assert!(matches!(store.open("models/1"), Err(GitError::NotFound)));

    let first = store
        .create("models/1", &author(), DEFAULT_GITATTRIBUTES)
        .unwrap();
    assert!(store.exists("models/1").unwrap());
    assert!(
        store
            .repo_dir("models/1")
            .unwrap()
            .ends_with("models/1.git")
    );
    let repo = store.open("models/1").unwrap();
    assert_eq!(repo.key(), "models/1");
    assert_eq!(repo.default_branch().unwrap(), "main");
    let main = repo.resolve("main").unwrap().unwrap();
    assert_eq!(main.commit, first);
    assert_eq!(main.kind, RevKind::Branch("main".into()));

    assert!(matches!(
        store.create("models/1", &author(), DEFAULT_GITATTRIBUTES),
        Err(GitError::RepoExists(_))
    ));
    for bad in [
        "models",
        "models/01",
        "Models/1",
        "../1",
        "models/1/x",
        "models/a",
    ] {
        assert!(
            matches!(
                store.create(bad, &author(), ""),
                Err(GitError::InvalidKey(_))
            ),
            "{bad:?}"
        );
        assert!(matches!(store.open(bad), Err(GitError::InvalidKey(_))));
    }

    store.create("datasets/1", &author(), "").unwrap();
    drop(repo);
    store.delete("models/1").unwrap();
    assert!(!store.exists("models/1").unwrap());
    assert!(store.exists("datasets/1").unwrap());
    assert!(matches!(store.open("models/1"), Err(GitError::NotFound)));
    assert!(matches!(store.delete("models/1"), Err(GitError::NotFound)));

    // Nothing but finished repos is left on disk.
    let left: Vec<_> = std::fs::read_dir(store.root().join("models"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "{left:?}");

    // The key is free again.
    let again = store
        .create("models/1", &author(), DEFAULT_GITATTRIBUTES)
        .unwrap();
    assert_eq!(tip(&store.open("models/1").unwrap(), "main"), again);
}

#[test]
fn initial_commit_holds_gitattributes() {
    let (_dir, store) = store();
    let (repo, first) = new_repo(&store, "models/7");
    let info = repo.commit_info(&first).unwrap();
    assert_eq!(info.title, INITIAL_COMMIT_TITLE);
    assert_eq!(info.message, "");
    assert!(info.parents.is_empty());
    assert_eq!(info.author_name, "alice");
    assert_eq!(info.author_email, "alice@users.noreply.grove");
    assert_eq!(listing(&repo, &first, None, true), [".gitattributes"]);
    assert_eq!(
        read(&repo, &first, ".gitattributes"),
        DEFAULT_GITATTRIBUTES.as_bytes()
    );

    let lines: Vec<&str> = DEFAULT_GITATTRIBUTES.lines().collect();
    assert_eq!(lines.len(), 34);
    for pattern in [
        "*.safetensors",
        "*.gguf",
        "saved_model/**/*",
        "*tfevents*",
        "*.tar.*",
    ] {
        let line = format!("{pattern} filter=lfs diff=lfs merge=lfs -text");
        assert!(lines.contains(&line.as_str()), "{line}");
    }

    // A custom text is kept byte for byte.
    let custom = store.create("models/8", &author(), "*.x -text\n").unwrap();
    let other = store.open("models/8").unwrap();
    assert_eq!(read(&other, &custom, ".gitattributes"), b"*.x -text\n");
}

#[test]
fn racing_creates_make_one_repo() {
    let (_dir, store) = store();
    let barrier = Arc::new(Barrier::new(6));
    let results: Vec<_> = (0..6)
        .map(|_| {
            let store = store.clone();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                store.create("models/5", &author(), DEFAULT_GITATTRIBUTES)
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().unwrap())
        .collect();
    let winners: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    for r in &results {
        assert!(matches!(r, Ok(_) | Err(GitError::RepoExists(_))), "{r:?}");
    }
    assert_eq!(&tip(&store.open("models/5").unwrap(), "main"), winners[0]);
    let names: Vec<_> = std::fs::read_dir(store.root().join("models"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, ["5.git"]);
}

#[test]
fn leftovers_are_swept() {
    let (_dir, store) = store();
    new_repo(&store, "models/1");
    let stale = store.root().join("models/.tmp-2-abc.git");
    let dead = store.root().join("models/.deleted-3-abc.git");
    std::fs::create_dir_all(stale.join("objects")).unwrap();
    std::fs::create_dir_all(&dead).unwrap();
    // Young leftovers stay (a create may be in flight).
    assert_eq!(
        store
            .remove_leftovers(std::time::Duration::from_secs(3600))
            .unwrap(),
        0
    );
    std::thread::sleep(std::time::Duration::from_millis(20));
    assert_eq!(
        store
            .remove_leftovers(std::time::Duration::from_millis(1))
            .unwrap(),
        2
    );
    assert!(!stale.exists() && !dead.exists());
    assert!(store.exists("models/1").unwrap());
}

// ---------------------------------------------------------------------------------------------
// Files: put, list, entries, LFS pointers

#[test]
fn nested_files_and_listings() {
    let (_dir, store) = store();
    let (repo, _) = new_repo(&store, "models/1");
    let pointer = LfsPointer::format(SHA, 5_000_000_000);
    let id = commit(
        &repo,
        vec![
            put(&repo, "a.txt", b"top\n"),
            put(&repo, "dir/b.txt", b"bee\n"),
            put(&repo, "dir/sub/model.safetensors", pointer.as_bytes()),
            put(&repo, "dir/sub/d.txt", b"dee\n"),
            put(&repo, "dir.txt", b"not a dir\n"),
            put(&repo, "dir-x/e", b"e\n"),
        ],
    );
    assert_eq!(tip(&repo, "main"), id);

    // Each directory comes right before its contents (segment-by-segment order).
    assert_eq!(
        listing(&repo, &id, None, false),
        [".gitattributes", "a.txt", "dir/", "dir-x/", "dir.txt"]
    );
    assert_eq!(
        listing(&repo, &id, None, true),
        [
            ".gitattributes",
            "a.txt",
            "dir/",
            "dir/b.txt",
            "dir/sub/",
            "dir/sub/d.txt",
            "dir/sub/model.safetensors",
            "dir-x/",
            "dir-x/e",
            "dir.txt",
        ]
    );
    assert_eq!(
        listing(&repo, &id, Some("dir"), false),
        ["dir/b.txt", "dir/sub/"]
    );
    assert_eq!(
        listing(&repo, &id, Some("dir"), true),
        [
            "dir/b.txt",
            "dir/sub/",
            "dir/sub/d.txt",
            "dir/sub/model.safetensors"
        ]
    );
    assert!(repo.list(&id, Some(&path("nope")), true).unwrap().is_none());
    assert!(
        repo.list(&id, Some(&path("a.txt")), false)
            .unwrap()
            .is_none()
    );
    assert!(
        repo.list(&id, Some(&path("dir/b")), false)
            .unwrap()
            .is_none()
    );

    // File entries: git blob ids and sizes.
    let a = repo.entry(&id, &path("a.txt")).unwrap().unwrap();
    assert_eq!(a.kind, EntryKind::File);
    assert_eq!(a.oid, git_blob_id(b"top\n"));
    assert_eq!(a.size, 4);
    assert_eq!(a.lfs, None);
    assert_eq!(a.pointer_size(), None);
    assert_eq!(a.content_size(), 4);
    assert_eq!(repo.read_blob(&a.oid).unwrap(), b"top\n");
    assert_eq!(repo.blob_size(&a.oid).unwrap(), 4);

    // LFS pointers are recognised in entries and listings alike.
    let lfs = repo
        .entry(&id, &path("dir/sub/model.safetensors"))
        .unwrap()
        .unwrap();
    let parsed = lfs.lfs.clone().unwrap();
    assert_eq!(parsed.oid, SHA);
    assert_eq!(parsed.size, 5_000_000_000);
    assert_eq!(lfs.size, pointer.len() as u64);
    assert_eq!(lfs.pointer_size(), Some(pointer.len() as u64));
    assert_eq!(lfs.content_size(), 5_000_000_000);
    let listed: Vec<Entry> = repo.list(&id, None, true).unwrap().unwrap();
    let with_lfs: Vec<_> = listed.iter().filter(|e| e.lfs.is_some()).collect();
    assert_eq!(with_lfs.len(), 1);
    assert_eq!(with_lfs[0], &lfs);

    // Directory entries: tree ids, size 0.
    let dir = repo.entry(&id, &path("dir/sub")).unwrap().unwrap();
    assert_eq!(dir.kind, EntryKind::Dir);
    assert_eq!(dir.size, 0);
    assert_eq!(dir.oid.len(), 40);
    assert!(repo.read_blob(&dir.oid).is_err());
    assert!(repo.entry(&id, &path("dir/nope")).unwrap().is_none());
    assert!(repo.entry(&id, &path("a.txt/x")).unwrap().is_none());

    // Old commits keep their trees.
    let first = repo.commit_info(&id).unwrap().parents[0].clone();
    assert_eq!(listing(&repo, &first, None, true), [".gitattributes"]);

    // Replacing a file changes its blob; the rest is untouched.
    let id2 = commit(&repo, vec![put(&repo, "dir/b.txt", b"bee 2\n")]);
    assert_eq!(read(&repo, &id2, "dir/b.txt"), b"bee 2\n");
    assert_eq!(read(&repo, &id2, "dir/sub/d.txt"), b"dee\n");
    assert_eq!(
        repo.entry(&id2, &path("dir/sub")).unwrap().unwrap().oid,
        dir.oid
    );
}

#[test]
fn executable_bit_and_bad_blobs() {
    let (_dir, store) = store();
    let (repo, first) = new_repo(&store, "models/1");
    let blob = repo.write_blob(b"#!/bin/sh\n").unwrap();
    let id = commit(
        &repo,
        vec![Op::Put {
            path: path("run.sh"),
            blob_oid: blob,
            executable: true,
        }],
    );
    assert_eq!(read(&repo, &id, "run.sh"), b"#!/bin/sh\n");

    let missing = git_blob_id(b"never written");
    let r = repo.commit(request(
        "main",
        None,
        vec![Op::Put {
            path: path("x"),
            blob_oid: missing.clone(),
            executable: false,
        }],
        "t",
    ));
    assert!(
        matches!(r, Err(GitError::BlobNotFound(ref o)) if *o == missing),
        "{r:?}"
    );
    let r = repo.commit(request(
        "main",
        None,
        vec![Op::Put {
            path: path("x"),
            blob_oid: "nothex".into(),
            executable: false,
        }],
        "t",
    ));
    assert!(matches!(r, Err(GitError::InvalidObjectId(_))), "{r:?}");
    // A tree id is not a blob.
    let tree = repo
        .entry(&first, &path(".gitattributes"))
        .unwrap()
        .unwrap();
    let tree_id = repo
        .entry(&id, &path("run.sh"))
        .unwrap()
        .map(|_| repo.commit_info(&id).unwrap().id.to_string())
        .unwrap();
    let r = repo.commit(request(
        "main",
        None,
        vec![Op::Put {
            path: path("x"),
            blob_oid: tree_id,
            executable: false,
        }],
        "t",
    ));
    assert!(matches!(r, Err(GitError::BlobNotFound(_))), "{r:?}");
    assert!(repo.has_blob(&tree.oid).unwrap());
    assert!(!repo.has_blob(&missing).unwrap());
    assert!(matches!(repo.read_blob(&missing), Err(GitError::NotFound)));
    assert!(matches!(repo.blob_size(&missing), Err(GitError::NotFound)));
    assert_eq!(tip(&repo, "main"), id);
}

// ---------------------------------------------------------------------------------------------
// Deleting files and folders

#[test]
fn delete_files_and_folders() {
    let (_dir, store) = store();
    let (repo, _) = new_repo(&store, "models/1");
    let base = commit(
        &repo,
        vec![
            put(&repo, "a.txt", b"a"),
            put(&repo, "logs/1.txt", b"1"),
            put(&repo, "logs/deep/2.txt", b"2"),
            put(&repo, "keep/only.txt", b"k"),
        ],
    );

    let id = commit(
        &repo,
        vec![
            delete("a.txt"),
            delete_folder("logs/"),
            delete("keep/only.txt"),
        ],
    );
    // The emptied directory disappears with its last file.
    assert_eq!(listing(&repo, &id, None, true), [".gitattributes"]);
    assert_eq!(repo.commit_info(&id).unwrap().parents, [base]);

    // Missing things, and things of the wrong kind, are PathNotFound; nothing changes.
    let cases = vec![
        (delete("a.txt"), "a.txt"),
        (delete("nope/x"), "nope/x"),
        (delete_folder("logs"), "logs"),
        (delete_folder(".gitattributes"), ".gitattributes"),
    ];
    for (op, missing) in cases {
        let r = repo.commit(request("main", None, vec![op], "t"));
        assert!(
            matches!(r, Err(GitError::PathNotFound(ref p)) if p == missing),
            "{missing}: {r:?}"
        );
    }
    let restored = commit(&repo, vec![put(&repo, "d/f", b"f")]);
    let r = repo.commit(request("main", None, vec![delete("d")], "t"));
    assert!(matches!(r, Err(GitError::PathNotFound(_))), "{r:?}");
    // A failing op anywhere in the list aborts the whole commit.
    let r = repo.commit(request(
        "main",
        None,
        vec![put(&repo, "new.txt", b"n"), delete("gone")],
        "t",
    ));
    assert!(matches!(r, Err(GitError::PathNotFound(_))), "{r:?}");
    assert_eq!(tip(&repo, "main"), restored);

    // Ops apply in order: delete then re-add, and deleting what this commit added.
    let id = commit(
        &repo,
        vec![
            delete_folder("d"),
            put(&repo, "d", b"now a file"),
            put(&repo, "tmp/x", b"x"),
            delete("tmp/x"),
        ],
    );
    assert_eq!(listing(&repo, &id, None, true), [".gitattributes", "d"]);
    assert_eq!(read(&repo, &id, "d"), b"now a file");

    // Deleting everything leaves the empty tree.
    let empty = commit(&repo, vec![delete(".gitattributes"), delete("d")]);
    assert!(repo.list(&empty, None, true).unwrap().unwrap().is_empty());
}

// ---------------------------------------------------------------------------------------------
// Revisions

#[test]
fn resolve_revisions() {
    let (_dir, store) = store();
    let (repo, first) = new_repo(&store, "models/1");
    let second = commit(&repo, vec![put(&repo, "x", b"x")]);
    repo.create_branch("feat/x", &first).unwrap();
    repo.create_tag("v1", &first, None, &author()).unwrap();
    repo.create_tag("v2", &second, Some("release 2"), &author())
        .unwrap();

    let r = |rev: &str| repo.resolve(rev).unwrap();
    let main = r("main").unwrap();
    assert_eq!(
        (main.commit, main.kind),
        (second.clone(), RevKind::Branch("main".into()))
    );
    let feat = r("feat/x").unwrap();
    assert_eq!(
        (feat.commit, feat.kind),
        (first.clone(), RevKind::Branch("feat/x".into()))
    );
    let full = r("refs/heads/feat/x").unwrap();
    assert_eq!(
        (full.commit, full.kind),
        (first.clone(), RevKind::Branch("feat/x".into()))
    );
    let v1 = r("v1").unwrap();
    assert_eq!(
        (v1.commit, v1.kind),
        (first.clone(), RevKind::Tag("v1".into()))
    );
    // Annotated tags peel to their commit.
    let v2 = r("refs/tags/v2").unwrap();
    assert_eq!(
        (v2.commit, v2.kind),
        (second.clone(), RevKind::Tag("v2".into()))
    );
    let by_id = r(second.as_str()).unwrap();
    assert_eq!(
        (by_id.commit, by_id.kind),
        (second.clone(), RevKind::Commit)
    );
    assert_eq!(r(&second.as_str().to_uppercase()).unwrap().commit, second);

    // refs/heads/ and refs/tags/ name exactly one namespace.
    assert!(r("refs/tags/main").is_none());
    assert!(r("refs/heads/v1").is_none());
    for unknown in [
        "nope",
        "refs/heads/nope",
        "refs/pr/1",
        "a..b",
        "",
        "HEAD~1",
        &second.as_str()[..12],
        "0000000000000000000000000000000000000000",
    ] {
        assert!(r(unknown).is_none(), "{unknown:?}");
    }
    // A blob or tree id is not a commit.
    let blob = repo.entry(&second, &path("x")).unwrap().unwrap().oid;
    assert!(r(&blob).is_none());

    // A branch wins over a tag of the same name.
    repo.create_tag("feat/x", &second, None, &author()).unwrap();
    assert_eq!(r("feat/x").unwrap().kind, RevKind::Branch("feat/x".into()));
    assert_eq!(r("feat/x").unwrap().commit, first);
    assert_eq!(r("refs/tags/feat/x").unwrap().commit, second);
}

// ---------------------------------------------------------------------------------------------
// Compare-and-swap

#[test]
fn stale_parent_changes_nothing() {
    let (_dir, store) = store();
    let (repo, first) = new_repo(&store, "models/1");
    let second = commit(&repo, vec![put(&repo, "a", b"a")]);

    for stale in [
        first.as_str().to_owned(),
        first.as_str()[..7].to_owned(),
        "xyzxyz".to_owned(),
        second.as_str()[..4].to_owned(),
        format!("{second}0"),
        String::new(),
    ] {
        let r = repo.commit(request(
            "main",
            Some(&stale),
            vec![put(&repo, "b", b"b")],
            "stale",
        ));
        match r {
            Err(GitError::StaleParent { tip }) => assert_eq!(tip, second, "{stale:?}"),
            other => panic!("{stale:?}: {other:?}"),
        }
    }
    assert_eq!(tip(&repo, "main"), second);
    let (log, more) = repo.log(&second, 0, 10).unwrap();
    assert_eq!(log.len(), 2);
    assert!(!more);
    assert!(repo.entry(&second, &path("b")).unwrap().is_none());

    // A 5-hex prefix of the tip, or the full id in either case, is accepted.
    let third = repo
        .commit(request(
            "main",
            Some(&second.as_str()[..5]),
            vec![put(&repo, "b", b"b")],
            "ok",
        ))
        .unwrap();
    assert_eq!(repo.commit_info(&third).unwrap().parents, [second]);
    let upper = third.as_str().to_uppercase();
    let fourth = repo
        .commit(request("main", Some(&upper), vec![], "ok"))
        .unwrap();
    assert_eq!(tip(&repo, "main"), fourth);
}

/// `writers` threads each make `EACH` commits to `main` without a parent. Writer `t` uses
/// `stores[t % stores.len()]`: one shared store is one process (its writers queue on the branch
/// lock); separate `GitStore` values on one root act like separate processes, where only the
/// compare-and-swap keeps commits from being lost.
fn concurrent_commits(stores: &[GitStore], writers: usize) {
    const EACH: usize = 5;
    let (_, first) = new_repo(&stores[0], "models/1");
    let barrier = Arc::new(Barrier::new(writers));
    let handles: Vec<_> = (0..writers)
        .map(|t| {
            let store = stores[t % stores.len()].clone();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                let repo = store.open("models/1").unwrap();
                barrier.wait();
                (0..EACH)
                    .map(|i| {
                        let ops = vec![
                            put(
                                &repo,
                                &format!("t{t}/f{i}.txt"),
                                format!("{t}-{i}").as_bytes(),
                            ),
                            put(&repo, "shared.txt", format!("last {t}-{i}").as_bytes()),
                        ];
                        repo.commit(request("main", None, ops, &format!("t{t} c{i}")))
                            .unwrap()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let made: Vec<CommitId> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    assert_eq!(made.len(), writers * EACH);

    let repo = stores[0].open("models/1").unwrap();
    let head = tip(&repo, "main");
    let (log, more) = repo.log(&head, 0, 1000).unwrap();
    assert!(!more);
    assert_eq!(log.len(), writers * EACH + 1);
    assert_eq!(log.last().unwrap().id, first);
    let in_log: BTreeSet<_> = log.iter().map(|c| c.id.clone()).collect();
    for id in &made {
        assert!(in_log.contains(id), "commit {id} lost");
    }
    // A single line of history: every commit's parent is the next one in the log.
    for pair in log.windows(2) {
        assert_eq!(pair[0].parents, [pair[1].id.clone()]);
    }

    let files = all_files(&repo, &head);
    for t in 0..writers {
        for i in 0..EACH {
            let p = format!("t{t}/f{i}.txt");
            assert!(files.contains(&p), "{p} lost");
            assert_eq!(read(&repo, &head, &p), format!("{t}-{i}").as_bytes());
        }
    }
    assert_eq!(files.len(), writers * EACH + 2);
    // shared.txt holds what the newest commit wrote.
    let newest = &log[0].title;
    let (t, c) = newest.split_once(' ').unwrap();
    let expected = format!("last {}-{}", &t[1..], &c[1..]);
    assert_eq!(read(&repo, &head, "shared.txt"), expected.as_bytes());
}

#[test]
fn concurrent_commits_in_one_process_are_serialised_not_lost() {
    let (_dir, store) = store();
    concurrent_commits(&[store], 8);
}

#[test]
fn concurrent_commits_across_processes_are_serialised_not_lost() {
    let (_dir, store) = store();
    let stores: Vec<GitStore> = (0..4)
        .map(|_| GitStore::new(store.root().to_owned()))
        .collect();
    concurrent_commits(&stores, 8);
}

#[test]
fn concurrent_commits_on_one_parent_let_exactly_one_win() {
    const THREADS: usize = 8;
    let (_dir, store) = store();
    let (_, first) = new_repo(&store, "models/1");
    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            // A store per writer: the ref's compare-and-swap, not the in-process lock, decides.
            let store = GitStore::new(store.root().to_owned());
            let barrier = barrier.clone();
            let parent = first.to_string();
            std::thread::spawn(move || {
                let repo = store.open("models/1").unwrap();
                let ops = vec![put(&repo, &format!("f{t}"), b"x")];
                barrier.wait();
                repo.commit(request("main", Some(&parent), ops, "race"))
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let winners: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    for r in &results {
        match r {
            Ok(_) => {}
            Err(GitError::StaleParent { tip }) => assert_eq!(tip, winners[0]),
            Err(e) => panic!("{e:?}"),
        }
    }
    let repo = store.open("models/1").unwrap();
    assert_eq!(&tip(&repo, "main"), winners[0]);
    assert_eq!(all_files(&repo, winners[0]).len(), 2);
}

// ---------------------------------------------------------------------------------------------
// Paths

#[test]
fn path_validation_table() {
    let long_segment = "a".repeat(256);
    let long_path = format!("{}xy", "ab/".repeat(341));
    let max_path = format!("{}a", "ab/".repeat(341));
    assert_eq!(max_path.len(), 1024);
    let good = [
        "a",
        "README.md",
        "a/b/c.d",
        ".gitattributes",
        ".gitignore",
        ".github/x",
        "dir/.gitkeep",
        "sp ace/é.txt",
        "a..b",
        &"s".repeat(255),
        max_path.as_str(),
    ];
    for p in good {
        let parsed = RepoPath::parse(p).unwrap_or_else(|e| panic!("{p:?}: {e}"));
        assert_eq!(parsed.as_str(), p);
    }
    let hostile = [
        "",
        "..",
        "../x",
        "a/../b",
        "a/..",
        ".",
        "./a",
        "/a",
        "/",
        "a/",
        "a//b",
        "a\\b",
        "..\\x",
        "a\0b",
        "\0",
        "a\rb",
        "a\x1bb",
        ".git",
        ".git/config",
        "a/.GIT/x",
        "a/.Git",
        ".git./x",
        ".git  /x",
        "GIT~1/HEAD",
        ".git::$INDEX_ALLOCATION/x",
        ".gi\u{200d}t/x",
        "e\u{301}.txt",
        "A\u{30a}",
        long_segment.as_str(),
        long_path.as_str(),
    ];
    for p in hostile {
        match RepoPath::parse(p) {
            Err(GitError::InvalidPath { .. }) => {}
            other => panic!("{p:?} was not refused: {other:?}"),
        }
    }
    assert_eq!(RepoPath::parse_folder("logs/").unwrap().as_str(), "logs");
    assert!(RepoPath::parse_folder("/").is_err());
    assert!(RepoPath::parse_folder("").is_err());
}

#[test]
fn case_collisions_and_file_dir_conflicts_are_refused() {
    let (_dir, store) = store();
    let (repo, _) = new_repo(&store, "models/1");
    let base = commit(
        &repo,
        vec![
            put(&repo, "README.md", b"r"),
            put(&repo, "models/a.bin", b"a"),
            put(&repo, "Ä.txt", b"x"),
            put(&repo, "file", b"f"),
        ],
    );

    let conflicts: Vec<Vec<Op>> = vec![
        vec![put(&repo, "readme.md", b"r2")],
        vec![put(&repo, "README.MD", b"r2")],
        vec![put(&repo, "Models/b.bin", b"b")],
        vec![put(&repo, "ä.txt", b"y")],
        vec![put(&repo, "models", b"file over dir")],
        vec![put(&repo, "file/inside", b"dir over file")],
        vec![put(&repo, "file/deeper/x", b"dir over file")],
        // Within one commit too.
        vec![put(&repo, "new/X", b"1"), put(&repo, "new/x", b"2")],
        vec![put(&repo, "n2/a", b"1"), put(&repo, "n2", b"2")],
        vec![put(&repo, "n3", b"1"), put(&repo, "n3/a", b"2")],
    ];
    for ops in conflicts {
        let what = format!("{ops:?}");
        let r = repo.commit(request("main", None, ops, "t"));
        assert!(
            matches!(r, Err(GitError::PathConflict { .. })),
            "{what}: {r:?}"
        );
    }
    assert_eq!(tip(&repo, "main"), base);

    // Renaming by case works when the old name goes first.
    let renamed = commit(
        &repo,
        vec![delete("README.md"), put(&repo, "readme.md", b"r")],
    );
    assert!(all_files(&repo, &renamed).contains("readme.md"));
    assert!(!all_files(&repo, &renamed).contains("README.md"));
    // Replacing a file under its exact name is fine.
    commit(&repo, vec![put(&repo, "readme.md", b"r3")]);
    // A folder replaced by a file (and back) when the old one is deleted first.
    let swapped = commit(
        &repo,
        vec![delete_folder("models"), put(&repo, "models", b"now a file")],
    );
    assert_eq!(read(&repo, &swapped, "models"), b"now a file");
}

// ---------------------------------------------------------------------------------------------
// Branches and tags

#[test]
fn branches_and_tags() {
    let (_dir, store) = store();
    let (repo, first) = new_repo(&store, "models/1");
    let second = commit(&repo, vec![put(&repo, "a", b"a")]);

    repo.create_branch("feat/x", &first).unwrap();
    repo.create_branch("dev", &second).unwrap();
    assert!(matches!(
        repo.create_branch("feat/x", &second),
        Err(GitError::RefExists(_))
    ));
    // "feat" would be a file where "feat/" is a directory of refs.
    assert!(matches!(
        repo.create_branch("feat", &second),
        Err(GitError::RefExists(_))
    ));
    assert!(matches!(
        repo.create_branch("feat/x/y", &second),
        Err(GitError::RefExists(_))
    ));
    let hex40 = "0123456789abcdef0123456789abcdef01234567";
    for bad in [
        "a..b",
        "x.lock",
        "refs/pr/1",
        "-x",
        "a b",
        "",
        "a:b",
        "HEAD",
        hex40,
    ] {
        assert!(
            matches!(
                repo.create_branch(bad, &first),
                Err(GitError::InvalidRefName(_))
            ),
            "branch {bad:?}"
        );
        assert!(
            matches!(
                repo.create_tag(bad, &first, None, &author()),
                Err(GitError::InvalidRefName(_))
            ),
            "tag {bad:?}"
        );
    }
    let unknown = CommitId::parse(hex40).unwrap();
    assert!(matches!(
        repo.create_branch("ghost", &unknown),
        Err(GitError::RevisionNotFound(_))
    ));

    // Commits go to the named branch only.
    let on_feat = repo
        .commit(request(
            "feat/x",
            None,
            vec![put(&repo, "f", b"f")],
            "on feat",
        ))
        .unwrap();
    assert_eq!(tip(&repo, "feat/x"), on_feat);
    assert_eq!(tip(&repo, "main"), second);
    let via_full = repo
        .commit(request("refs/heads/feat/x", None, vec![], "again"))
        .unwrap();
    assert_eq!(tip(&repo, "feat/x"), via_full);

    repo.create_tag("v1.0", &first, None, &author()).unwrap();
    repo.create_tag("v2.0", &second, Some("Release 2\n\nnotes"), &author())
        .unwrap();
    assert!(matches!(
        repo.create_tag("v1.0", &second, None, &author()),
        Err(GitError::RefExists(_))
    ));
    assert!(matches!(
        repo.create_tag("v2.0", &second, Some("again"), &author()),
        Err(GitError::RefExists(_))
    ));

    let refs = repo.refs().unwrap();
    assert_eq!(
        refs.branches,
        [
            ("dev".to_owned(), second.clone()),
            ("feat/x".to_owned(), via_full.clone()),
            ("main".to_owned(), second.clone()),
        ]
    );
    assert_eq!(
        refs.tags,
        [
            ("v1.0".to_owned(), first.clone()),
            ("v2.0".to_owned(), second.clone()),
        ]
    );

    // Commits to tags, unknown or invalid branches: RevisionNotFound.
    for branch in ["v1.0", "nope", "refs/tags/v1.0", "a..b", ""] {
        let r = repo.commit(request(branch, None, vec![], "t"));
        assert!(
            matches!(r, Err(GitError::RevisionNotFound(_))),
            "{branch:?}: {r:?}"
        );
    }

    assert!(matches!(
        repo.delete_branch("main"),
        Err(GitError::Refused(_))
    ));
    repo.delete_branch("feat/x").unwrap();
    assert!(matches!(
        repo.delete_branch("feat/x"),
        Err(GitError::RevisionNotFound(_))
    ));
    assert!(matches!(
        repo.delete_branch("v1.0"),
        Err(GitError::RevisionNotFound(_))
    ));
    assert!(repo.resolve("feat/x").unwrap().is_none());
    // With feat/x gone, "feat" is free.
    repo.create_branch("feat", &first).unwrap();

    repo.delete_tag("v2.0").unwrap();
    assert!(matches!(
        repo.delete_tag("v2.0"),
        Err(GitError::RevisionNotFound(_))
    ));
    assert!(matches!(
        repo.delete_tag("dev"),
        Err(GitError::RevisionNotFound(_))
    ));
    let refs = repo.refs().unwrap();
    let branches: Vec<_> = refs.branches.iter().map(|(n, _)| n.as_str()).collect();
    let tags: Vec<_> = refs.tags.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(branches, ["dev", "feat", "main"]);
    assert_eq!(tags, ["v1.0"]);
    // The commit a deleted branch pointed at is still readable by id.
    assert_eq!(
        repo.resolve(via_full.as_str()).unwrap().unwrap().kind,
        RevKind::Commit
    );
}

// ---------------------------------------------------------------------------------------------
// History

#[test]
fn log_pages_newest_first() {
    let (_dir, store) = store();
    let (repo, first) = new_repo(&store, "models/1");
    let mut made = vec![first.clone()];
    for i in 0..11 {
        let mut req = request(
            "main",
            None,
            vec![put(&repo, "n", format!("{i}").as_bytes())],
            &format!("commit {i}"),
        );
        req.description = format!("about {i}\n\nsecond paragraph\n");
        made.push(repo.commit(req).unwrap());
    }
    made.reverse(); // newest first
    let head = tip(&repo, "main");

    let mut seen = Vec::new();
    let mut skip = 0;
    let mut pages = 0;
    loop {
        let (page, more) = repo.log(&head, skip, 5).unwrap();
        assert!(page.len() <= 5);
        skip += page.len();
        seen.extend(page.into_iter().map(|c| c.id));
        pages += 1;
        if !more {
            break;
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, made);
    let (page, more) = repo.log(&head, 12, 5).unwrap();
    assert!(page.is_empty() && !more);
    let (page, more) = repo.log(&head, 0, 12).unwrap();
    assert_eq!(page.len(), 12);
    assert!(!more);
    let (page, more) = repo.log(&head, 0, 11).unwrap();
    assert_eq!(page.len(), 11);
    assert!(more);
    // From an older commit: only its ancestors.
    let (page, _) = repo.log(&made[5], 0, 100).unwrap();
    assert_eq!(
        page.iter().map(|c| c.id.clone()).collect::<Vec<_>>(),
        made[5..]
    );

    let info = &repo.log(&head, 0, 1).unwrap().0[0];
    assert_eq!(info.title, "commit 10");
    assert_eq!(info.message, "about 10\n\nsecond paragraph");
    assert_eq!(info.parents, [made[1].clone()]);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((now - info.time).abs() < 300, "{} vs {now}", info.time);

    let ghost = CommitId::parse("0123456789abcdef0123456789abcdef01234567").unwrap();
    assert!(matches!(
        repo.log(&ghost, 0, 5),
        Err(GitError::RevisionNotFound(_))
    ));
    assert!(matches!(
        repo.commit_info(&ghost),
        Err(GitError::RevisionNotFound(_))
    ));
}

#[test]
fn last_commit_for_paths() {
    let (_dir, store) = store();
    let (repo, first) = new_repo(&store, "models/1");
    let c1 = commit(
        &repo,
        vec![put(&repo, "a.txt", b"1"), put(&repo, "d/x", b"x")],
    );
    let c2 = commit(&repo, vec![put(&repo, "b.txt", b"1")]);
    let c3 = commit(&repo, vec![put(&repo, "a.txt", b"2")]);
    let _c4 = commit(&repo, vec![put(&repo, "b.txt", b"1")]); // same content: no change
    let c5 = commit(&repo, vec![put(&repo, "d/y", b"y")]);
    let head = tip(&repo, "main");

    let last = |p: &str| repo.last_commit_for(&head, &path(p)).unwrap().map(|c| c.id);
    assert_eq!(last("a.txt"), Some(c3.clone()));
    assert_eq!(last("b.txt"), Some(c2.clone()));
    assert_eq!(last("d/x"), Some(c1.clone()));
    assert_eq!(last("d"), Some(c5.clone()));
    assert_eq!(last(".gitattributes"), Some(first.clone()));
    assert_eq!(last("nope"), None);

    // From an older commit.
    assert_eq!(
        repo.last_commit_for(&c2, &path("a.txt"))
            .unwrap()
            .map(|c| c.id),
        Some(c1.clone())
    );
    // Many paths in one walk.
    let many = repo
        .last_commits_for(&head, &[path("d/y"), path("zzz"), path("a.txt")])
        .unwrap();
    let ids: Vec<_> = many.into_iter().map(|c| c.map(|c| c.id)).collect();
    assert_eq!(ids, [Some(c5), None, Some(c3)]);
}

#[test]
fn empty_commits_are_allowed() {
    let (_dir, store) = store();
    let (repo, first) = new_repo(&store, "models/1");
    let same = commit(
        &repo,
        vec![put(
            &repo,
            ".gitattributes",
            DEFAULT_GITATTRIBUTES.as_bytes(),
        )],
    );
    let none = commit(&repo, vec![]);
    assert_ne!(same, first);
    assert_eq!(repo.commit_info(&none).unwrap().parents, [same]);
    let before = repo.list(&first, None, true).unwrap();
    assert_eq!(repo.list(&none, None, true).unwrap(), before);
}

// ---------------------------------------------------------------------------------------------
// Blobs

#[test]
fn streaming_blob_write_matches_git_hash_object() {
    let (dir, store) = store();
    let (repo, _) = new_repo(&store, "models/1");
    let file = dir.path().join("big.bin");
    let len = 30 * 1024 * 1024 + 12_345;
    {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut chunk = vec![0u8; 64 * 1024];
        let mut left = len;
        while left > 0 {
            for b in chunk.iter_mut() {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                *b = state as u8;
            }
            let n = left.min(chunk.len());
            out.write_all(&chunk[..n]).unwrap();
            left -= n;
        }
        out.flush().unwrap();
    }

    let written = repo.write_blob_from_file(&file).unwrap();
    let by_libgit2 = git2::Oid::hash_file(git2::ObjectType::Blob, &file)
        .unwrap()
        .to_string();
    let ours = git_blob_id_of_file(&file).unwrap();
    let by_hand = {
        use sha1::{Digest, Sha1};
        let bytes = std::fs::read(&file).unwrap();
        let mut h = Sha1::new();
        h.update(format!("blob {}\0", bytes.len()).as_bytes());
        h.update(&bytes);
        hex::encode(h.finalize())
    };
    assert_eq!(written, by_libgit2);
    assert_eq!(ours, by_libgit2);
    assert_eq!(by_hand, by_libgit2);
    assert_eq!(repo.blob_size(&written).unwrap(), len as u64);
    assert!(repo.has_blob(&written).unwrap());
    assert_eq!(
        repo.read_blob(&written).unwrap(),
        std::fs::read(&file).unwrap()
    );

    // Small and empty files, and the in-memory form, agree.
    let small = dir.path().join("small.txt");
    std::fs::write(&small, b"hello\n").unwrap();
    assert_eq!(
        repo.write_blob_from_file(&small).unwrap(),
        "ce013625030ba8dba906f756967f9e9ca394464a"
    );
    assert_eq!(
        repo.write_blob(b"hello\n").unwrap(),
        git_blob_id(b"hello\n")
    );
    let empty = dir.path().join("empty");
    std::fs::write(&empty, b"").unwrap();
    assert_eq!(
        repo.write_blob_from_file(&empty).unwrap(),
        "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"
    );
    assert_eq!(
        git_blob_id_of_file(&empty).unwrap(),
        "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"
    );
    assert!(
        repo.write_blob_from_file(&dir.path().join("missing"))
            .is_err()
    );
}

// ---------------------------------------------------------------------------------------------
// Interoperability: the repos are ordinary git repos

#[test]
fn real_git_reads_the_repos() {
    if std::process::Command::new("git")
        .arg("--version")
        .output()
        .is_err()
    {
        if std::env::var("GROVE_TEST_REQUIRE_SERVICES").as_deref() == Ok("1") {
            panic!("git is not installed and GROVE_TEST_REQUIRE_SERVICES=1");
        }
        eprintln!("note: git is not installed; skipping the interoperability check");
        return;
    }
    let (_dir, store) = store();
    let (repo, _) = new_repo(&store, "models/1");
    let pointer = LfsPointer::format(SHA, 42);
    let id = commit(
        &repo,
        vec![
            put(&repo, "dir/w.safetensors", pointer.as_bytes()),
            put(&repo, "README.md", b"# hi\n"),
        ],
    );
    repo.create_tag("v1", &id, Some("first"), &author())
        .unwrap();
    let git_dir = store.repo_dir("models/1").unwrap();
    let git = |args: &[&str]| -> String {
        let out = std::process::Command::new("git")
            .arg("--git-dir")
            .arg(&git_dir)
            .args(args)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", git_dir.parent().unwrap())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    git(&["fsck", "--strict", "--no-dangling"]);
    assert_eq!(git(&["rev-parse", "main"]).trim(), id.as_str());
    assert_eq!(git(&["rev-parse", "v1^{commit}"]).trim(), id.as_str());
    assert_eq!(git(&["symbolic-ref", "HEAD"]).trim(), "refs/heads/main");
    assert_eq!(git(&["config", "core.fsyncObjectFiles"]).trim(), "true");
    let files = git(&["ls-tree", "-r", "--name-only", "main"]);
    assert_eq!(files, ".gitattributes\nREADME.md\ndir/w.safetensors\n");
    assert_eq!(git(&["show", "main:dir/w.safetensors"]), pointer);
    assert_eq!(
        git(&["log", "--format=%s", "main"]),
        "change\ninitial commit\n"
    );
    // `git hash-object` agrees with our blob ids.
    let readme = Path::new(&git_dir).parent().unwrap().join("readme-copy");
    std::fs::write(&readme, b"# hi\n").unwrap();
    let hashed = git(&["hash-object", readme.to_str().unwrap()]);
    assert_eq!(hashed.trim(), git_blob_id_of_file(&readme).unwrap());
}
