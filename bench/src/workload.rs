//! The workload: data and every random choice, generated once from the seed and shared by all
//! implementations, so each one does exactly the same work.
//!
//! Ids are 1-based and dense in insertion order in every implementation: user `i` (0-based in
//! the vectors) has id `i + 1`, its posts are `10 i + 1 ..= 10 i + 10`, and so on.

/// SplitMix64: small, fast, deterministic; enough for picking benchmark keys.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi` (the tiny modulo bias does not matter here).
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }

    /// `len` lowercase letters and spaces.
    pub fn text(&mut self, len: usize) -> String {
        const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz     ";
        (0..len)
            .map(|_| CHARS[(self.next_u64() % CHARS.len() as u64) as usize] as char)
            .collect()
    }
}

#[derive(Debug, Clone)]
pub struct UserData {
    pub email: String,
    pub name: String,
}

#[derive(Debug, Clone)]
pub struct PostData {
    /// The author's id (1-based).
    pub author: u64,
    pub title: String,
    /// 200 bytes.
    pub body: String,
    pub published: bool,
    pub created: i64,
}

#[derive(Debug, Clone)]
pub struct CommentData {
    /// The post's id (1-based).
    pub post: u64,
    pub body: String,
    pub created: i64,
}

pub const POSTS_PER_USER: usize = 10;
pub const COMMENTS_PER_POST: usize = 2;
pub const BODY_LEN: usize = 200;
pub const PAGE: usize = 100;

/// How many of each operation a run does (the sizes; the 3-level load and the deletes
/// shrink with tiny `--users`).
#[derive(Debug, Clone)]
pub struct Sizes {
    pub durable_inserts: usize,
    pub gets: usize,
    pub email_lookups: usize,
    pub posts_of_users: usize,
    pub three_level_users: usize,
    pub offset_page_reps: usize,
    pub cursor_page_reps: usize,
    pub title_updates: usize,
    pub email_updates: usize,
    pub deletes: usize,
}

impl Sizes {
    pub fn for_users(users: usize) -> Sizes {
        Sizes {
            durable_inserts: 2_000,
            gets: 100_000,
            email_lookups: 100_000,
            posts_of_users: 10_000,
            three_level_users: 1_000.min(users),
            offset_page_reps: 20,
            cursor_page_reps: 1_000,
            title_updates: 10_000,
            email_updates: 10_000,
            // Deleting must leave users behind.
            deletes: 1_000.min(users / 2),
        }
    }
}

pub struct Workload {
    pub users: Vec<UserData>,
    pub posts: Vec<PostData>,
    pub comments: Vec<CommentData>,
    pub sizes: Sizes,
    /// Posts inserted one per durable transaction (their ids follow the bulk-loaded ones).
    pub durable_posts: Vec<PostData>,
    /// Post ids for the random gets.
    pub get_ids: Vec<u64>,
    /// Indexes into `users` whose email is looked up.
    pub email_lookups: Vec<usize>,
    /// User ids whose posts are read through the author index.
    pub posts_of: Vec<u64>,
    /// User ids loaded with their posts and the posts' comments.
    pub three_level: Vec<u64>,
    /// (post id, new title): updates of a non-indexed column.
    pub title_updates: Vec<(u64, String)>,
    /// (user id, new email): updates of a unique-indexed column.
    pub email_updates: Vec<(u64, String)>,
    /// Distinct user ids deleted with their posts and comments.
    pub deletes: Vec<u64>,
}

impl Workload {
    pub fn generate(n_users: usize, seed: u64) -> Workload {
        let mut rng = Rng::new(seed);
        let sizes = Sizes::for_users(n_users);
        let users: Vec<UserData> = (0..n_users)
            .map(|i| {
                // A random prefix spreads the emails over the index; the number keeps them unique.
                let email = format!("{:08x}.{i}@example.com", rng.next_u64() as u32);
                let first = rng.range(4, 10) as usize;
                let last = rng.range(5, 12) as usize;
                let name = format!("{} {}", rng.text(first), rng.text(last));
                UserData { email, name }
            })
            .collect();
        let post = |rng: &mut Rng, author: u64, created: i64| {
            let title_len = rng.range(20, 60) as usize;
            PostData {
                author,
                title: rng.text(title_len),
                body: rng.text(BODY_LEN),
                published: !rng.next_u64().is_multiple_of(4),
                created,
            }
        };
        let mut clock: i64 = 1_700_000_000_000;
        let mut posts = Vec::with_capacity(n_users * POSTS_PER_USER);
        for u in 0..n_users {
            for _ in 0..POSTS_PER_USER {
                clock += rng.range(1, 60_000) as i64;
                posts.push(post(&mut rng, u as u64 + 1, clock));
            }
        }
        let mut comments = Vec::with_capacity(posts.len() * COMMENTS_PER_POST);
        for p in 0..posts.len() {
            for _ in 0..COMMENTS_PER_POST {
                clock += rng.range(1, 1_000) as i64;
                let len = rng.range(30, 120) as usize;
                comments.push(CommentData {
                    post: p as u64 + 1,
                    body: rng.text(len),
                    created: clock,
                });
            }
        }
        let nu = n_users as u64;
        let np = posts.len() as u64;
        let durable_posts = (0..sizes.durable_inserts)
            .map(|_| {
                clock += rng.range(1, 60_000) as i64;
                let author = rng.range(1, nu);
                post(&mut rng, author, clock)
            })
            .collect();
        let get_ids = (0..sizes.gets).map(|_| rng.range(1, np)).collect();
        let email_lookups = (0..sizes.email_lookups)
            .map(|_| rng.range(0, nu - 1) as usize)
            .collect();
        let posts_of = (0..sizes.posts_of_users)
            .map(|_| rng.range(1, nu))
            .collect();
        let three_level = (0..sizes.three_level_users)
            .map(|_| rng.range(1, nu))
            .collect();
        let title_updates = (0..sizes.title_updates)
            .map(|_| {
                let len = rng.range(20, 60) as usize;
                (rng.range(1, np), rng.text(len))
            })
            .collect();
        let email_updates = (0..sizes.email_updates)
            .map(|k| {
                let id = rng.range(1, nu);
                (
                    id,
                    format!("{:08x}.{k}@changed.example.com", rng.next_u64() as u32),
                )
            })
            .collect();
        // A partial Fisher-Yates shuffle: distinct users.
        let mut all: Vec<u64> = (1..=nu).collect();
        for i in 0..sizes.deletes {
            let j = rng.range(i as u64, nu - 1) as usize;
            all.swap(i, j);
        }
        let deletes = all[..sizes.deletes].to_vec();
        Workload {
            users,
            posts,
            comments,
            sizes,
            durable_posts,
            get_ids,
            email_lookups,
            posts_of,
            three_level,
            title_updates,
            email_updates,
            deletes,
        }
    }

    /// Posts after the durable inserts (what paging walks through).
    pub fn total_posts(&self) -> usize {
        self.posts.len() + self.durable_posts.len()
    }

    /// Rows written by the bulk load.
    pub fn bulk_rows(&self) -> usize {
        self.users.len() + self.posts.len() + self.comments.len()
    }

    /// The offset of the page at 90 % depth of the posts table (on a page boundary, so that
    /// the cursor remembered while paging through everything points at the same page).
    pub fn deep_offset(&self) -> usize {
        (self.total_posts() * 9 / 10) / PAGE * PAGE
    }
}

/// Row counts at the end of the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub users: u64,
    pub posts: u64,
    pub comments: u64,
}

impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "users {}, posts {}, comments {}",
            self.users, self.posts, self.comments
        )
    }
}
