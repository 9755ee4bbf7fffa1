//! Static vocabularies: people's names by region, usernames, and the short texts messages and
//! comments carry. Nothing here is random; the generator picks from these lists.

/// A naming tradition: which first and last names a contact gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NameGroup {
    /// India.
    Indian,
    /// Nepal.
    Nepali,
    /// Brazil, Portugal.
    Lusophone,
    /// UK, US, Canada, Caribbean, Australia, New Zealand, Ireland.
    Anglo,
    /// Mexico, Spain, Argentina, Colombia, Puerto Rico.
    Hispanic,
    /// Nigeria.
    WestAfrican,
    /// Kenya.
    EastAfrican,
    /// South Africa.
    SouthAfrican,
    /// Indonesia.
    Indonesian,
    /// Malaysia, Singapore.
    Malay,
    /// Philippines.
    Filipino,
    /// Gulf states, Egypt.
    Arabic,
    /// Pakistan.
    Pakistani,
    /// Bangladesh.
    Bengali,
    /// Germany.
    German,
    /// France.
    French,
    /// Turkey.
    Turkish,
}

impl NameGroup {
    /// The (first names, last names) of the group; each list has exactly 8 entries.
    pub fn lists(self) -> (&'static [&'static str; 8], &'static [&'static str; 8]) {
        use NameGroup::*;
        match self {
            Indian => (
                &[
                    "Aarav", "Priya", "Rohan", "Ananya", "Vikram", "Sneha", "Arjun", "Kavya",
                ],
                &[
                    "Sharma", "Patel", "Iyer", "Reddy", "Gupta", "Nair", "Singh", "Desai",
                ],
            ),
            Nepali => (
                &[
                    "Sujan", "Anita", "Bikash", "Sita", "Prakash", "Gita", "Ramesh", "Puja",
                ],
                &[
                    "Shrestha", "Gurung", "Tamang", "Adhikari", "Thapa", "Rai", "Karki", "Magar",
                ],
            ),
            Lusophone => (
                &[
                    "João", "Ana", "Pedro", "Mariana", "Lucas", "Beatriz", "Rafael", "Juliana",
                ],
                &[
                    "Silva", "Santos", "Oliveira", "Souza", "Costa", "Ferreira", "Almeida", "Lima",
                ],
            ),
            Anglo => (
                &[
                    "Oliver", "Emma", "James", "Sophie", "Liam", "Chloe", "Noah", "Grace",
                ],
                &[
                    "Smith", "Jones", "Brown", "Taylor", "Wilson", "Campbell", "Walker", "Clarke",
                ],
            ),
            Hispanic => (
                &[
                    "Diego",
                    "Lucía",
                    "Carlos",
                    "Valentina",
                    "Mateo",
                    "Camila",
                    "Javier",
                    "Sofía",
                ],
                &[
                    "García",
                    "Rodríguez",
                    "Martínez",
                    "López",
                    "Hernández",
                    "Gómez",
                    "Díaz",
                    "Torres",
                ],
            ),
            WestAfrican => (
                &[
                    "Chinedu", "Ngozi", "Tunde", "Aisha", "Emeka", "Funmi", "Ibrahim", "Yetunde",
                ],
                &[
                    "Okafor", "Adeyemi", "Balogun", "Eze", "Musa", "Okonkwo", "Bello", "Nwosu",
                ],
            ),
            EastAfrican => (
                &[
                    "Wanjiku", "Otieno", "Achieng", "Kamau", "Njeri", "Mwangi", "Akinyi", "Kiprop",
                ],
                &[
                    "Mutua",
                    "Odhiambo",
                    "Kariuki",
                    "Wambui",
                    "Cheruiyot",
                    "Njoroge",
                    "Ouma",
                    "Kimani",
                ],
            ),
            SouthAfrican => (
                &[
                    "Thabo", "Lerato", "Sipho", "Naledi", "Pieter", "Zanele", "Johan", "Ayanda",
                ],
                &[
                    "Nkosi",
                    "Dlamini",
                    "van der Merwe",
                    "Botha",
                    "Mokoena",
                    "Ndlovu",
                    "Khumalo",
                    "Pillay",
                ],
            ),
            Indonesian => (
                &[
                    "Budi", "Siti", "Agus", "Dewi", "Rizky", "Putri", "Andi", "Ayu",
                ],
                &[
                    "Santoso", "Wijaya", "Saputra", "Hidayat", "Kusuma", "Pratama", "Lestari",
                    "Nugroho",
                ],
            ),
            Malay => (
                &[
                    "Ahmad", "Nurul", "Wei Ling", "Hafiz", "Mei", "Arif", "Siew", "Farah",
                ],
                &[
                    "Abdullah", "Tan", "Lim", "Ismail", "Wong", "Rahman", "Lee", "Osman",
                ],
            ),
            Filipino => (
                &[
                    "Jose",
                    "Maria",
                    "Mark",
                    "Kristine",
                    "John Paul",
                    "Angelica",
                    "Paolo",
                    "Jasmine",
                ],
                &[
                    "Santos",
                    "Reyes",
                    "Cruz",
                    "Bautista",
                    "Garcia",
                    "Mendoza",
                    "Dela Cruz",
                    "Aquino",
                ],
            ),
            Arabic => (
                &[
                    "Mohammed", "Fatima", "Omar", "Layla", "Youssef", "Mariam", "Khalid", "Nour",
                ],
                &[
                    "Al Mansouri",
                    "Hassan",
                    "Al Qahtani",
                    "Ibrahim",
                    "Mahmoud",
                    "Al Thani",
                    "Saleh",
                    "Farouk",
                ],
            ),
            Pakistani => (
                &[
                    "Ali", "Ayesha", "Hamza", "Zainab", "Bilal", "Sana", "Usman", "Hira",
                ],
                &[
                    "Khan", "Ahmed", "Malik", "Butt", "Chaudhry", "Qureshi", "Shah", "Iqbal",
                ],
            ),
            Bengali => (
                &[
                    "Rahim", "Nusrat", "Tanvir", "Farzana", "Sakib", "Mim", "Arif", "Tania",
                ],
                &[
                    "Hossain",
                    "Islam",
                    "Rahman",
                    "Akter",
                    "Chowdhury",
                    "Uddin",
                    "Begum",
                    "Sarkar",
                ],
            ),
            German => (
                &[
                    "Lukas", "Anna", "Felix", "Lena", "Jonas", "Mia", "Leon", "Hannah",
                ],
                &[
                    "Müller",
                    "Schmidt",
                    "Schneider",
                    "Fischer",
                    "Weber",
                    "Becker",
                    "Wagner",
                    "Hoffmann",
                ],
            ),
            French => (
                &[
                    "Lucas", "Léa", "Hugo", "Chloé", "Louis", "Manon", "Jules", "Camille",
                ],
                &[
                    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Petit", "Durand", "Moreau",
                ],
            ),
            Turkish => (
                &[
                    "Mehmet", "Ayşe", "Emre", "Zeynep", "Burak", "Elif", "Can", "Merve",
                ],
                &[
                    "Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Aydın", "Öztürk", "Arslan",
                ],
            ),
        }
    }
}

/// Username stems for username-only users (Messenger, Instagram, Telegram, web chat visitors).
pub(crate) const USERNAMES: [&str; 12] = [
    "sunny.days",
    "pixel_rider",
    "coffee.lover",
    "night_owl",
    "wanderlust",
    "the.real.sam",
    "bookworm",
    "gamer_x",
    "moonwalker",
    "citrus.kid",
    "blue_lagoon",
    "visitor",
];

/// Opening lines of an inbound conversation.
pub(crate) const GREETINGS: [&str; 10] = [
    "Hi",
    "Hello",
    "hi there",
    "Good morning",
    "Hey, is anyone there?",
    "Hola",
    "Namaste",
    "Olá, tudo bem?",
    "Hi, I need help",
    "Menu",
];

/// Questions contacts ask agents.
pub(crate) const QUESTIONS: [&str; 10] = [
    "Where is my order?",
    "Can I change my delivery address?",
    "How much does it cost?",
    "I was charged twice",
    "Do you deliver on weekends?",
    "I want to cancel my appointment",
    "The app is not working",
    "Can I speak to a person?",
    "What are your opening hours?",
    "Is this item in stock?",
];

/// Short follow-ups and acknowledgements from contacts.
pub(crate) const FOLLOW_UPS: [&str; 8] = [
    "ok",
    "Thanks!",
    "thank you so much",
    "Great",
    "yes please",
    "no",
    "👍",
    "Sure",
];

/// Agent replies.
pub(crate) const AGENT_LINES: [&str; 8] = [
    "Hi, this is the support team, how can I help?",
    "Let me check that for you.",
    "Your order is on its way and should arrive tomorrow.",
    "I have updated your details.",
    "Sorry for the trouble, I have raised a refund.",
    "Could you send me a photo of the problem?",
    "Is there anything else I can help with?",
    "Thanks for your patience!",
];

/// Bot (flow) prompts.
pub(crate) const BOT_LINES: [&str; 8] = [
    "Welcome! Please choose an option below.",
    "What would you like to do today?",
    "Please type your city.",
    "Pick a time slot that suits you.",
    "How would you rate our service?",
    "Thanks, your answer was saved.",
    "Here is the information you asked for.",
    "All done! Type MENU to start again.",
];

/// Automation replies (auto-responders, away messages).
pub(crate) const AUTOMATION_LINES: [&str; 5] = [
    "Thanks for your message, we will get back to you shortly.",
    "We are closed right now; our team is back at 9am.",
    "You can track your order at any time by typing ORDER.",
    "Thanks for your comment! We sent you a private message.",
    "This chat was closed after a period of inactivity.",
];

/// Public comments on posts.
pub(crate) const COMMENTS: [&str; 10] = [
    "Price?",
    "How much is this?",
    "Do you ship to my city?",
    "Love it 😍",
    "Info please",
    "Available in blue?",
    "Wow",
    "DM me",
    "When is the sale?",
    "Is this still available?",
];
