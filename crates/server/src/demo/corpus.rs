//! Original multilingual demo text: names, customer messages, agent replies and canned responses
//! for the `demo` command's seeded workspace and its traffic simulator.
//!
//! Everything here was written for this project. Numbers, codes and names are fictional; email
//! domains all live under the reserved `.example` top-level domain so no real mailbox is ever
//! addressed by demo data.

/// One language's worth of demo text.
#[derive(Debug)]
pub struct Language {
    /// BCP-47-ish code: "en", "fa", "ar", "ro", "pl".
    pub code: &'static str,
    /// Right-to-left script.
    pub rtl: bool,
    /// Given names (at least 20).
    pub first_names: &'static [&'static str],
    /// Family names (at least 20); any first name may be paired with any last name.
    pub last_names: &'static [&'static str],
    /// Opening messages a customer sends to start a conversation. 1–3 sentences, varied length.
    pub opening_messages: &'static [&'static str],
    /// Follow-up messages from a customer inside an ongoing conversation.
    pub follow_ups: &'static [&'static str],
    /// Replies an agent writes.
    pub agent_replies: &'static [&'static str],
    /// Internal notes between agents (no @mentions inside; the seeder adds them).
    pub notes: &'static [&'static str],
    /// International dialling prefix used for phone numbers, e.g. "+44", "+98", "+971", "+40",
    /// "+48".
    pub phone_prefix: &'static str,
    /// Email domains for contacts in this language.
    pub email_domains: &'static [&'static str],
}

// ---------------------------------------------------------------------------------------------
// English
// ---------------------------------------------------------------------------------------------

/// English demo text.
pub const ENGLISH: Language = Language {
    code: "en",
    rtl: false,
    first_names: &[
        "Olivia", "James", "Amelia", "Noah", "Isla", "Oliver", "Ava", "George", "Mia", "Harry",
        "Grace", "Jack", "Sophie", "Leo", "Emily", "Arthur", "Chloe", "Samuel", "Ruby", "Daniel",
        "Hannah", "Thomas", "Priya", "Marcus",
    ],
    last_names: &[
        "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel",
        "Robinson", "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall",
        "Wood", "Clarke", "Hughes", "Edwards", "Okafor", "Murphy",
    ],
    opening_messages: &[
        "Hi, I placed order #48213 last Tuesday and it still says \"processing\". Could you tell me when it will ship?",
        "My parcel was supposed to arrive yesterday but the tracking hasn't updated in four days. Is it lost?",
        "I'd like to return the blue rain jacket I bought. It's a size too small. How do I start a return?",
        "Hello! Can I book an appointment for Saturday morning? Any time before noon works for me.",
        "I was charged twice for the same order. Please refund the duplicate payment.",
        "Does the X200 blender come with a spare blade, or do I need to buy one separately?",
        "Honestly, this is the third time my delivery has been late. I'm starting to lose patience.",
        "Just wanted to say thank you — the replacement arrived this morning and it works perfectly.",
        "My card keeps getting declined at checkout even though it works everywhere else. Any idea why?",
        "Hi there, is the standing desk in stock in white? The website says 'limited availability'.",
        "I need to change the delivery address on my order. I've just moved and forgot to update it.",
        "The box arrived damaged and two of the glasses inside were broken. What should I do?",
        "Can I move my appointment from Thursday to next Monday?",
        "I never received a confirmation email for my booking. Can you check that it went through?",
        "Hi, do you ship to Ireland? If so, how long does it usually take?",
        "Your app logs me out every few minutes. I've reinstalled it twice and it keeps happening.",
        "I was promised a callback yesterday and nobody called. Could someone please get back to me today?",
        "Is there a discount for ordering 50 units? We run a small café and would love to use your mugs.",
        "The invoice I received has the wrong company name on it. Could you reissue it?",
        "Hello, I'd like to cancel my subscription before the next billing date on the 14th.",
        "I received someone else's order! The name on the label isn't mine.",
        "What's the warranty on the wireless headphones? The left earbud stopped working after three months.",
        "Quick question: can I pay by bank transfer instead of card?",
        "I sent the shoes back two weeks ago and still haven't seen a refund. Tracking shows you received them on the 3rd.",
        "Good morning. My order shows as delivered but there's nothing at my door, and my neighbours haven't seen it either.",
        "Is it possible to add gift wrapping to an order I've already placed?",
        "The promo code SPRING15 isn't working. It says it has expired, but your email said it's valid until Sunday.",
        "I'd like to speak to a manager about how my complaint was handled last week.",
        "The assembly instructions for the bookshelf are missing step 4. Could you send me a PDF?",
        "Do you have any fitting appointments left this week? I'm flexible on times.",
        "Where is my order?",
    ],
    follow_ups: &[
        "Thanks for getting back to me. The order number is 48213.",
        "I've attached a photo of the damaged box.",
        "Any update on this? It's been three days.",
        "That works for me, thank you!",
        "Sorry, I meant the large size, not the medium.",
        "I checked again and the tracking still hasn't changed.",
        "Could you send the return label to my other email address instead?",
        "Yes, the card ends in 4417.",
        "Great, I'll drop it off at the post office tomorrow.",
        "Is there anything else you need from me?",
        "I'm not happy with that answer. Is there really nothing else you can do?",
        "Okay, 10:30 on Saturday is perfect.",
        "The refund has arrived. Thanks for sorting it out so quickly!",
        "Can you confirm the total including delivery?",
        "I tried clearing the cache like you suggested, but it didn't help.",
        "My phone number is the same one that's on the account.",
        "Perfect, that's all I needed.",
        "Will I get an email when it ships?",
        "Actually, could I swap it for the green one instead of getting a refund?",
        "Still nothing arrived today. What happens next?",
        "Just following up on my previous message.",
        "I'd rather not wait another week. Can you send it express?",
    ],
    agent_replies: &[
        "Thanks for reaching out! I'm looking into this for you now.",
        "I'm sorry about the delay. I've checked with our courier and your parcel is at the local depot; it should be delivered within two working days.",
        "I've issued a full refund to your original payment method. It usually takes 3–5 business days to appear.",
        "You're booked in for Saturday at 10:30. You'll receive a confirmation email shortly.",
        "Could you share your order number so I can find your account?",
        "I've emailed you a prepaid return label. Just print it, attach it to the box and drop it off at any post office.",
        "I completely understand your frustration, and I'm sorry we let you down. I've escalated this to our shipping team as a priority.",
        "Good news: the item is back in stock and I've reserved one for you.",
        "I can see the duplicate charge. I've cancelled it, and the money should be back in your account within a few days.",
        "Could you send us a photo of the damage? That will help us process the replacement faster.",
        "I've updated the delivery address on your order, and the new address is confirmed.",
        "Our warranty covers manufacturing faults for two years, so we'll replace the headphones free of charge.",
        "Yes, we ship to Ireland! Delivery usually takes 3–4 working days.",
        "I've applied the discount manually; your new total is on the updated invoice.",
        "Your subscription has been cancelled and you won't be charged again.",
        "Thanks for your patience. Our developers have found the bug, and the fix is going out in the next app update.",
        "I've reissued the invoice with the correct company name. You'll find it attached.",
        "I'm glad to hear everything arrived safely! Let us know if there's anything else we can help with.",
        "I've moved your appointment to Monday at 2 pm. Does that time suit you?",
        "Unfortunately that promo code ended on Friday, but I've added a 10% discount to your order as a goodwill gesture.",
        "I've passed your request to my manager, who will call you before 5 pm today.",
        "Bank transfer is fine. I've sent the account details and a payment reference along with your pro forma invoice.",
    ],
    notes: &[
        "Customer has contacted us three times about this order. Please handle with care.",
        "Courier confirmed the parcel was misrouted. New ETA is Friday.",
        "Refund approved by finance; waiting for the payment processor to confirm.",
        "Possible duplicate of last week's ticket, same order number.",
        "Long-time wholesale buyer, so it's worth offering free shipping.",
        "Checked the logs: the payment failed because of a 3-D Secure timeout, not a card problem.",
        "Replacement sent via express. Tracking number added to the order.",
        "Can someone who knows the booking system look at this? The slot shows as free but won't save.",
        "Please don't issue another discount; they already received one last month.",
        "Waiting on the warehouse to confirm whether the damaged stock can go back to the supplier.",
        "Customer prefers phone calls in the afternoon.",
        "Escalated to tier 2. Please don't close until we hear back from engineering.",
    ],
    phone_prefix: "+44",
    email_domains: &[
        "example.com",
        "mail.example",
        "postbox.example",
        "inbox.example",
    ],
};

// ---------------------------------------------------------------------------------------------
// Persian (Farsi). Uses Persian ی and ک, Persian digits and zero-width non-joiners.
// ---------------------------------------------------------------------------------------------

/// Persian demo text.
pub const PERSIAN: Language = Language {
    code: "fa",
    rtl: true,
    first_names: &[
        "علی", "محمد", "رضا", "حسین", "مهدی", "امیر", "سارا", "مریم", "زهرا", "فاطمه", "نازنین",
        "نیلوفر", "پریسا", "آرش", "کاوه", "بهرام", "شیرین", "لیلا", "سپیده", "کیان", "یاسمن",
        "داریوش", "مهسا", "فرهاد",
    ],
    last_names: &[
        "احمدی", "محمدی", "رضایی", "حسینی", "کریمی", "موسوی", "جعفری", "صادقی", "رحیمی", "کاظمی",
        "نوری", "قاسمی", "تهرانی", "شریفی", "اکبری", "یزدانی", "فراهانی", "نیک‌نام", "بهرامی",
        "سلطانی", "کرمانی", "امینی",
    ],
    opening_messages: &[
        "سلام، سفارش شماره‌ی ۴۸۲۱۳ را سه‌شنبه‌ی گذشته ثبت کردم ولی هنوز «در حال پردازش» است. کی ارسال می‌شود؟",
        "بسته‌ام قرار بود دیروز برسد، اما کد رهگیری چهار روز است که تغییری نکرده. گم شده؟",
        "می‌خواهم کفشی را که خریدم مرجوع کنم، چون سایزش کوچک است. باید از کجا شروع کنم؟",
        "سلام، برای شنبه صبح وقت خالی دارید؟ هر ساعتی قبل از ظهر برایم مناسب است.",
        "مبلغ سفارشم دو بار از حسابم کسر شده. لطفاً مبلغ اضافه را برگردانید.",
        "آیا مخلوط‌کن مدل X200 تیغه‌ی یدکی هم دارد یا باید جداگانه بخرم؟",
        "این سومین بار است که ارسال سفارشم دیر می‌شود. واقعاً دیگر حوصله‌ام سر رفته.",
        "فقط خواستم تشکر کنم؛ کالای جایگزین امروز صبح رسید و کاملاً سالم است.",
        "کارتم موقع پرداخت مدام رد می‌شود، در حالی که جاهای دیگر بدون مشکل کار می‌کند. دلیلش چیست؟",
        "میز کار ایستاده در رنگ سفید هم موجود است؟ در سایت نوشته «موجودی محدود».",
        "باید آدرس تحویل سفارشم را عوض کنم. تازه اسباب‌کشی کرده‌ام و یادم رفت آدرس را به‌روز کنم.",
        "جعبه آسیب‌دیده به دستم رسید و دو تا از لیوان‌ها شکسته بودند. چه کار باید بکنم؟",
        "ممکن است نوبتم را از پنجشنبه به دوشنبه‌ی آینده منتقل کنید؟",
        "ایمیل تأیید رزرو برایم نیامد. می‌شود بررسی کنید که ثبت شده یا نه؟",
        "به شهرستان هم ارسال دارید؟ معمولاً چند روز طول می‌کشد؟",
        "اپلیکیشن شما هر چند دقیقه یک بار مرا از حسابم بیرون می‌اندازد. دو بار دوباره نصبش کردم ولی فرقی نکرد.",
        "قرار بود دیروز با من تماس بگیرید ولی کسی زنگ نزد. لطفاً امروز پیگیری کنید.",
        "اگر ۵۰ عدد ماگ سفارش بدهیم تخفیف می‌دهید؟ یک کافه‌ی کوچک داریم و می‌خواهیم از ماگ‌های شما استفاده کنیم.",
        "نام شرکت روی فاکتوری که فرستادید اشتباه است. امکان صدور دوباره‌ی آن هست؟",
        "می‌خواهم اشتراکم را قبل از تمدید بعدی در چهاردهم ماه لغو کنم.",
        "سفارش یک نفر دیگر به دستم رسیده! اسم روی برچسب مال من نیست.",
        "گارانتی هدفون بی‌سیم چقدر است؟ گوشی سمت چپ بعد از سه ماه از کار افتاد.",
        "یک سؤال کوتاه: می‌توانم مبلغ را با واریز بانکی پرداخت کنم؟",
        "دو هفته پیش کفش‌ها را پس فرستادم ولی هنوز پولم برنگشته. طبق کد رهگیری، سوم ماه به دستتان رسیده.",
        "وضعیت سفارشم «تحویل داده شد» است ولی چیزی دم در نیست و همسایه‌ها هم چیزی ندیده‌اند.",
        "می‌شود برای سفارشی که ثبت کرده‌ام کادوپیچ هم اضافه کنید؟",
        "کد تخفیف BAHAR15 کار نمی‌کند و پیام منقضی شدن می‌دهد، در حالی که در ایمیل نوشته بودید تا جمعه معتبر است.",
        "لطفاً مرا به مدیر وصل کنید. از نحوه‌ی رسیدگی به شکایتم در هفته‌ی گذشته راضی نیستم.",
        "راهنمای نصب قفسه‌ی کتاب مرحله‌ی چهارم را ندارد. می‌توانید فایل PDF آن را بفرستید؟",
        "سلام، وقت بخیر. برای تعمیر گوشی‌ام نوبت می‌خواستم؛ این هفته وقت خالی دارید؟",
        "سفارشم کی می‌رسد؟",
    ],
    follow_ups: &[
        "ممنون که پاسخ دادید. شماره‌ی سفارشم ۴۸۲۱۳ است.",
        "عکس جعبه‌ی آسیب‌دیده را پیوست کردم.",
        "خبری نشد؟ سه روز گذشته.",
        "این زمان برایم مناسب است، ممنونم!",
        "ببخشید، منظورم سایز بزرگ بود نه متوسط.",
        "دوباره نگاه کردم، کد رهگیری هنوز تغییری نکرده.",
        "می‌شود برچسب مرجوعی را به ایمیل دیگرم بفرستید؟",
        "بله، چهار رقم آخر کارتم ۴۴۱۷ است.",
        "عالی است، فردا بسته را به اداره‌ی پست تحویل می‌دهم.",
        "چیز دیگری از من لازم دارید؟",
        "این جواب قانعم نمی‌کند. واقعاً کار دیگری از دستتان برنمی‌آید؟",
        "باشه، شنبه ساعت ۱۰:۳۰ عالی است.",
        "پول به حسابم برگشت. ممنون که این‌قدر سریع پیگیری کردید!",
        "می‌شود مبلغ نهایی را همراه با هزینه‌ی ارسال تأیید کنید؟",
        "حافظه‌ی موقت برنامه را همان‌طور که گفتید پاک کردم ولی درست نشد.",
        "شماره‌ی تماسم همان شماره‌ای است که در حساب کاربری ثبت شده.",
        "عالی، همین را لازم داشتم.",
        "وقتی ارسال شد ایمیل می‌گیرم؟",
        "راستش ترجیح می‌دهم به جای بازپرداخت، رنگ سبزش را برایم بفرستید.",
        "امروز هم چیزی نرسید. قدم بعدی چیست؟",
        "پیام قبلی‌ام را پیگیری می‌کنم.",
        "نمی‌خواهم یک هفته‌ی دیگر صبر کنم. امکان ارسال فوری هست؟",
    ],
    agent_replies: &[
        "ممنون که با ما تماس گرفتید! همین الان در حال بررسی موضوع هستم.",
        "بابت تأخیر عذرخواهی می‌کنم. با شرکت پست هماهنگ کردم؛ بسته‌ی شما در انبار محلی است و ظرف دو روز کاری تحویل داده می‌شود.",
        "کل مبلغ به روش پرداخت اصلی شما برگشت داده شد. معمولاً ۳ تا ۵ روز کاری طول می‌کشد تا در حسابتان دیده شود.",
        "نوبت شما برای شنبه ساعت ۱۰:۳۰ ثبت شد. به‌زودی ایمیل تأیید را دریافت می‌کنید.",
        "لطفاً شماره‌ی سفارشتان را بفرستید تا حسابتان را پیدا کنم.",
        "برچسب مرجوعی پیش‌پرداخت را برایتان ایمیل کردم. کافی است چاپش کنید، روی جعبه بچسبانید و به نزدیک‌ترین اداره‌ی پست تحویل دهید.",
        "کاملاً حق دارید ناراحت باشید و از این بابت متأسفیم. موضوع را با اولویت بالا به واحد ارسال ارجاع دادم.",
        "خبر خوب: کالا دوباره موجود شد و یکی را برای شما کنار گذاشتم.",
        "پرداخت تکراری را می‌بینم. آن را لغو کردم و مبلغ ظرف چند روز به حسابتان برمی‌گردد.",
        "ممکن است یک عکس از آسیب برایمان بفرستید؟ این کار ارسال کالای جایگزین را سریع‌تر می‌کند.",
        "آدرس تحویل سفارشتان به‌روز شد و آدرس جدید تأیید شده است.",
        "گارانتی ما دو سال عیوب ساخت را پوشش می‌دهد، بنابراین هدفون را رایگان تعویض می‌کنیم.",
        "بله، به همه‌ی شهرها ارسال داریم! معمولاً ۳ تا ۴ روز کاری طول می‌کشد.",
        "تخفیف را دستی اعمال کردم و مبلغ جدید در فاکتور به‌روزشده آمده است.",
        "اشتراک شما لغو شد و دیگر مبلغی از حسابتان کسر نمی‌شود.",
        "ممنون از صبرتان. تیم فنی مشکل را پیدا کرده و در به‌روزرسانی بعدی برنامه برطرف می‌شود.",
        "فاکتور را با نام صحیح شرکت دوباره صادر کردم و پیوست کرده‌ام.",
        "خوشحالم که همه‌چیز سالم رسید! اگر کار دیگری بود در خدمتیم.",
        "نوبتتان را به دوشنبه ساعت ۱۴ منتقل کردم. این زمان برایتان مناسب است؟",
        "متأسفانه آن کد تخفیف جمعه منقضی شد، اما برای جبران ۱۰٪ تخفیف روی سفارشتان اعمال کردم.",
        "درخواستتان را به مدیرم منتقل کردم و تا ساعت ۵ عصر امروز با شما تماس می‌گیرد.",
        "برای واریز بانکی، شماره‌ی حساب و شناسه‌ی پرداخت را همراه پیش‌فاکتور برایتان فرستادم.",
    ],
    notes: &[
        "مشتری سه بار درباره‌ی همین سفارش پیام داده. لطفاً با حوصله پیگیری شود.",
        "شرکت پست تأیید کرد که بسته به مسیر اشتباه رفته بود. زمان تحویل جدید: جمعه.",
        "بازپرداخت را واحد مالی تأیید کرد؛ منتظر تأیید درگاه پرداخت هستیم.",
        "احتمالاً تکراری است؛ همان شماره‌ی سفارش تیکت هفته‌ی پیش.",
        "این مشتری از خریداران عمده‌ی قدیمی ماست، بهتر است ارسال رایگان پیشنهاد بدهیم.",
        "لاگ‌ها را بررسی کردم: پرداخت به خاطر تمام شدن مهلت رمز پویا ناموفق بوده، نه مشکل کارت.",
        "کالای جایگزین با پست پیشتاز ارسال شد. کد رهگیری به سفارش اضافه شد.",
        "کسی که سیستم نوبت‌دهی را می‌شناسد نگاهی بیندازد؟ زمان خالی نشان داده می‌شود ولی ذخیره نمی‌شود.",
        "تخفیف دیگری ندهید؛ ماه پیش یک بار تخفیف گرفته‌اند.",
        "منتظر پاسخ انبار هستیم که آیا کالای آسیب‌دیده به تأمین‌کننده برمی‌گردد یا نه.",
        "مشتری ترجیح می‌دهد بعدازظهرها تلفنی با او تماس بگیریم.",
        "به پشتیبانی سطح ۲ ارجاع شد. تا جواب تیم فنی نیامده، گفتگو را نبندید.",
    ],
    phone_prefix: "+98",
    email_domains: &[
        "parsmail.example",
        "tehranpost.example",
        "persianbox.example",
        "example.com",
    ],
};

// ---------------------------------------------------------------------------------------------
// Arabic (Gulf-neutral Modern Standard Arabic). Uses Arabic ي and ك and Arabic-Indic digits.
// ---------------------------------------------------------------------------------------------

/// Arabic demo text.
pub const ARABIC: Language = Language {
    code: "ar",
    rtl: true,
    first_names: &[
        "محمد", "أحمد", "علي", "عمر", "يوسف", "خالد", "سلمان", "فيصل", "طارق", "كريم", "حسن",
        "عبدالله", "ليلى", "فاطمة", "مريم", "نور", "سارة", "هدى", "ريم", "دانة", "لمى", "ياسمين",
        "رنا", "منى",
    ],
    last_names: &[
        "الحربي", "العتيبي", "القحطاني", "الشمري", "المطيري", "الزهراني", "الغامدي", "المنصوري",
        "الكعبي", "النعيمي", "الهاشمي", "السويدي", "الراشد", "الخطيب", "حداد", "منصور",
        "عبدالرحمن", "الفارس", "البلوشي", "المهيري", "الدوسري", "الشامسي",
    ],
    opening_messages: &[
        "مرحباً، قدّمت الطلب رقم ٤٨٢١٣ يوم الثلاثاء الماضي وما زالت حالته «قيد التجهيز». متى سيتم شحنه؟",
        "كان من المفترض أن تصل شحنتي أمس، لكن رقم التتبع لم يتغير منذ أربعة أيام. هل ضاعت؟",
        "أرغب في إرجاع الحذاء الذي اشتريته لأن مقاسه صغير. كيف أبدأ عملية الإرجاع؟",
        "السلام عليكم، هل يمكنني حجز موعد صباح يوم السبت؟ أي وقت قبل الظهر يناسبني.",
        "تم خصم مبلغ الطلب مرتين من بطاقتي. أرجو استرداد المبلغ المكرر.",
        "هل تأتي الخلاطة موديل X200 مع شفرة إضافية أم يجب شراؤها بشكل منفصل؟",
        "هذه هي المرة الثالثة التي يتأخر فيها توصيل طلبي. بصراحة بدأت أفقد صبري.",
        "أردت فقط أن أشكركم، فقد وصل المنتج البديل صباح اليوم وهو يعمل بشكل ممتاز.",
        "بطاقتي تُرفض باستمرار عند الدفع مع أنها تعمل في كل مكان آخر. ما السبب؟",
        "هل المكتب القابل لتعديل الارتفاع متوفر باللون الأبيض؟ الموقع يقول «الكمية محدودة».",
        "أحتاج إلى تغيير عنوان التوصيل لطلبي، فقد انتقلت إلى شقة جديدة ونسيت تحديثه.",
        "وصل الصندوق متضرراً وانكسر كوبان من الأكواب التي بداخله. ماذا أفعل؟",
        "هل يمكن تغيير موعدي من يوم الخميس إلى يوم الاثنين القادم؟",
        "لم تصلني رسالة تأكيد الحجز على البريد الإلكتروني. هل يمكنكم التأكد من أن الحجز تم؟",
        "هل توصلون إلى سلطنة عُمان؟ وكم يستغرق التوصيل عادةً؟",
        "التطبيق يُخرجني من حسابي كل بضع دقائق. أعدت تثبيته مرتين والمشكلة مستمرة.",
        "وعدتموني باتصال أمس ولم يتصل بي أحد. أرجو أن يتواصل معي أحد اليوم.",
        "هل هناك خصم عند طلب ٥٠ قطعة؟ لدينا مقهى صغير ونريد استخدام أكوابكم.",
        "اسم الشركة في الفاتورة التي وصلتني خاطئ. هل يمكنكم إصدارها من جديد؟",
        "أود إلغاء اشتراكي قبل موعد التجديد القادم في الرابع عشر من الشهر.",
        "وصلني طلب شخص آخر! الاسم على الملصق ليس اسمي.",
        "ما مدة الضمان على السماعات اللاسلكية؟ توقفت السماعة اليسرى عن العمل بعد ثلاثة أشهر.",
        "سؤال سريع: هل يمكنني الدفع عن طريق التحويل البنكي بدلاً من البطاقة؟",
        "أرجعت الحذاء قبل أسبوعين ولم يصلني المبلغ حتى الآن، مع أن التتبع يُظهر أنكم استلمتموه.",
        "صباح الخير. حالة طلبي «تم التسليم» لكن لا يوجد شيء عند الباب، والجيران لم يروه أيضاً.",
        "هل يمكن إضافة تغليف هدايا إلى طلب قمت به بالفعل؟",
        "كود الخصم RAMADAN15 لا يعمل، إذ تظهر رسالة بأنه منتهي الصلاحية، مع أن البريد الذي وصلني يقول إنه صالح حتى يوم الجمعة.",
        "أريد التحدث إلى المدير بخصوص طريقة التعامل مع شكواي الأسبوع الماضي.",
        "دليل تركيب رف الكتب تنقصه الخطوة الرابعة. هل يمكنكم إرسال نسخة PDF؟",
        "مساء الخير، هل لديكم مواعيد متاحة هذا الأسبوع لصيانة المكيف؟",
        "أين طلبي؟",
    ],
    follow_ups: &[
        "شكراً على الرد. رقم الطلب ٤٨٢١٣.",
        "أرفقت صورة للصندوق المتضرر.",
        "هل من جديد؟ مرت ثلاثة أيام.",
        "هذا الموعد يناسبني، شكراً جزيلاً!",
        "عذراً، كنت أقصد المقاس الكبير وليس المتوسط.",
        "تحققت مرة أخرى ورقم التتبع لم يتغير.",
        "هل يمكن إرسال ملصق الإرجاع إلى بريدي الإلكتروني الآخر؟",
        "نعم، آخر أربعة أرقام من البطاقة ٤٤١٧.",
        "ممتاز، سأسلم الطرد لمكتب البريد غداً.",
        "هل تحتاجون أي معلومات أخرى مني؟",
        "هذا الرد غير مقنع. ألا يوجد حل آخر فعلاً؟",
        "تمام، الساعة ١٠:٣٠ يوم السبت مناسبة جداً.",
        "وصل المبلغ المسترد. شكراً لسرعة المعالجة!",
        "هل يمكن تأكيد المبلغ الإجمالي شاملاً رسوم التوصيل؟",
        "مسحت ذاكرة التخزين المؤقت كما اقترحتم لكن المشكلة لم تُحل.",
        "رقم هاتفي هو نفسه المسجل في الحساب.",
        "ممتاز، هذا كل ما كنت أحتاجه.",
        "هل ستصلني رسالة بالبريد الإلكتروني عند شحن الطلب؟",
        "في الحقيقة أفضّل استبداله باللون الأخضر بدلاً من استرداد المبلغ.",
        "لم يصل شيء اليوم أيضاً. ما الخطوة التالية؟",
        "أتابع بخصوص رسالتي السابقة.",
        "لا أريد الانتظار أسبوعاً آخر. هل يمكن الشحن السريع؟",
    ],
    agent_replies: &[
        "شكراً لتواصلك معنا! أتحقق من الأمر الآن.",
        "نعتذر عن التأخير. تواصلت مع شركة الشحن، وطردك موجود في المستودع المحلي وسيتم توصيله خلال يومي عمل.",
        "تم استرداد المبلغ كاملاً إلى وسيلة الدفع الأصلية، وعادةً ما يظهر خلال ٣ إلى ٥ أيام عمل.",
        "تم حجز موعدك يوم السبت الساعة ١٠:٣٠، وستصلك رسالة تأكيد قريباً.",
        "هل يمكنك تزويدي برقم الطلب حتى أتمكن من العثور على حسابك؟",
        "أرسلت إليك ملصق إرجاع مدفوعاً مسبقاً عبر البريد الإلكتروني. اطبعه وألصقه على الصندوق ثم سلّمه لأقرب مكتب بريد.",
        "أتفهم تماماً انزعاجك ونعتذر عن هذه التجربة. صعّدت الموضوع إلى فريق الشحن كأولوية.",
        "خبر سار: المنتج متوفر من جديد وقد حجزت لك قطعة.",
        "أرى الخصم المكرر. ألغيته وسيعود المبلغ إلى حسابك خلال أيام قليلة.",
        "هل يمكنك إرسال صورة للضرر؟ سيساعدنا ذلك على إرسال البديل بشكل أسرع.",
        "تم تحديث عنوان التوصيل لطلبك وتأكيد العنوان الجديد.",
        "ضماننا يغطي عيوب التصنيع لمدة سنتين، لذلك سنستبدل السماعات مجاناً.",
        "نعم، نوصل إلى جميع دول الخليج! يستغرق التوصيل عادةً من ٣ إلى ٤ أيام عمل.",
        "طبّقت الخصم يدوياً، وستجد المبلغ الجديد في الفاتورة المحدّثة.",
        "تم إلغاء اشتراكك ولن يتم خصم أي مبالغ أخرى.",
        "شكراً لصبرك. اكتشف فريقنا التقني سبب المشكلة وسيتم إصلاحها في التحديث القادم للتطبيق.",
        "أعدت إصدار الفاتورة باسم الشركة الصحيح وأرفقتها لك.",
        "يسعدني أن كل شيء وصل بسلام! لا تتردد في التواصل معنا إذا احتجت أي شيء.",
        "نقلت موعدك إلى يوم الاثنين الساعة الثانية ظهراً. هل يناسبك هذا الوقت؟",
        "للأسف انتهت صلاحية كود الخصم يوم الجمعة، لكنني أضفت خصماً بنسبة ١٠٪ على طلبك تقديراً لك.",
        "حوّلت طلبك إلى مديري وسيتصل بك قبل الساعة الخامسة مساء اليوم.",
        "يمكنك الدفع بالتحويل البنكي، وقد أرسلت لك تفاصيل الحساب مع الفاتورة المبدئية.",
    ],
    notes: &[
        "تواصل العميل معنا ثلاث مرات بخصوص هذا الطلب. يرجى التعامل معه بعناية.",
        "أكدت شركة الشحن أن الطرد أُرسل إلى مسار خاطئ. موعد التسليم الجديد يوم الجمعة.",
        "وافق القسم المالي على الاسترداد، وننتظر تأكيد بوابة الدفع.",
        "قد تكون مكررة مع تذكرة الأسبوع الماضي، فرقم الطلب نفسه.",
        "هذا العميل يشتري منا بالجملة منذ سنوات، ويستحق أن نعرض عليه شحناً مجانياً.",
        "راجعت السجلات: فشل الدفع بسبب انتهاء مهلة رمز التحقق وليس بسبب البطاقة.",
        "أُرسل البديل بالشحن السريع وأضفت رقم التتبع إلى الطلب.",
        "هل يمكن لمن يعرف نظام الحجز أن يلقي نظرة؟ الموعد يظهر متاحاً لكنه لا يُحفظ.",
        "لا تمنحوا خصماً آخر، فقد حصل العميل على خصم الشهر الماضي.",
        "بانتظار رد المستودع بشأن إمكانية إعادة البضاعة التالفة إلى المورّد.",
        "يفضّل العميل الاتصال الهاتفي بعد الظهر.",
        "صُعّدت إلى المستوى الثاني من الدعم. لا تغلقوا المحادثة قبل رد الفريق التقني.",
    ],
    phone_prefix: "+971",
    email_domains: &[
        "gulfmail.example",
        "barid.example",
        "souq-mail.example",
        "example.com",
    ],
};

// ---------------------------------------------------------------------------------------------
// Romanian. Uses comma-below ș and ț (not the cedilla forms).
// ---------------------------------------------------------------------------------------------

/// Romanian demo text.
pub const ROMANIAN: Language = Language {
    code: "ro",
    rtl: false,
    first_names: &[
        "Andrei", "Maria", "Ioana", "Alexandru", "Elena", "Mihai", "Ana", "Ștefan", "Cristina",
        "Gabriel", "Andreea", "Bogdan", "Raluca", "Vlad", "Irina", "Radu", "Diana", "Sorin",
        "Alina", "Tudor", "Oana", "Cătălin", "Mădălina", "Florin",
    ],
    last_names: &[
        "Popescu", "Ionescu", "Popa", "Dumitrescu", "Stan", "Stoica", "Gheorghe", "Matei",
        "Ciobanu", "Rusu", "Munteanu", "Constantin", "Dinu", "Marin", "Toma", "Barbu", "Neagu",
        "Lungu", "Sârbu", "Țăranu", "Mureșan", "Dragomir", "Pătrașcu", "Moldovan",
    ],
    opening_messages: &[
        "Bună ziua, am plasat comanda nr. 48213 marțea trecută și încă apare „în procesare”. Când va fi expediată?",
        "Coletul trebuia să ajungă ieri, dar informațiile de urmărire nu s-au mai actualizat de patru zile. S-a pierdut?",
        "Aș vrea să returnez geaca de ploaie albastră, pentru că e cu o mărime prea mică. Cum încep returul?",
        "Bună! Pot face o programare pentru sâmbătă dimineață? Orice oră înainte de prânz îmi convine.",
        "Mi s-a retras de două ori suma pentru aceeași comandă. Vă rog să-mi returnați plata dublă.",
        "Blenderul X200 vine cu o lamă de rezervă sau trebuie cumpărată separat?",
        "Sincer, este a treia oară când livrarea mea întârzie. Încep să-mi pierd răbdarea.",
        "Voiam doar să vă mulțumesc — produsul înlocuit a ajuns azi-dimineață și funcționează perfect.",
        "Cardul meu este respins la plată, deși merge fără probleme în altă parte. Știți de ce?",
        "Biroul reglabil pe înălțime este disponibil în alb? Pe site scrie „stoc limitat”.",
        "Trebuie să schimb adresa de livrare a comenzii. M-am mutat recent și am uitat s-o actualizez.",
        "Cutia a ajuns deteriorată, iar două pahare erau sparte. Ce trebuie să fac?",
        "Pot muta programarea de joi pe lunea viitoare?",
        "Nu am primit e-mailul de confirmare pentru rezervare. Puteți verifica dacă s-a înregistrat?",
        "Livrați și în Republica Moldova? Dacă da, cam cât durează?",
        "Aplicația mă deconectează la fiecare câteva minute. Am reinstalat-o de două ori și problema persistă.",
        "Mi s-a promis că voi fi sunat ieri, dar nu m-a contactat nimeni. Vă rog să reveniți azi.",
        "Aveți reducere pentru 50 de bucăți? Avem o cafenea mică și am vrea să folosim cănile voastre.",
        "Factura primită are numele firmei greșit. O puteți reemite?",
        "Doresc să-mi anulez abonamentul înainte de următoarea facturare, pe 14.",
        "Am primit comanda altcuiva! Numele de pe etichetă nu este al meu.",
        "Ce garanție au căștile wireless? Casca stângă s-a oprit după trei luni.",
        "O întrebare rapidă: pot plăti prin transfer bancar în loc de card?",
        "Am returnat pantofii acum două săptămâni și încă n-am primit banii. Conform urmăririi, i-ați primit pe 3.",
        "Bună dimineața. Comanda apare ca livrată, dar nu e nimic la ușă, iar vecinii n-au văzut niciun colet.",
        "Se poate adăuga ambalaj de cadou la o comandă deja plasată?",
        "Codul PRIMAVARA15 nu funcționează: spune că a expirat, deși în e-mail scria că e valabil până duminică.",
        "Aș dori să vorbesc cu un manager despre felul în care mi-a fost tratată reclamația săptămâna trecută.",
        "Instrucțiunile de montaj pentru bibliotecă nu au pasul 4. Îmi puteți trimite un PDF?",
        "Aveți locuri libere săptămâna aceasta pentru o probă? Sunt flexibilă cu ora.",
        "Unde este comanda mea?",
    ],
    follow_ups: &[
        "Mulțumesc pentru răspuns. Numărul comenzii este 48213.",
        "Am atașat o fotografie cu cutia deteriorată.",
        "Există vreo noutate? Au trecut trei zile.",
        "Mi se potrivește, mulțumesc!",
        "Scuze, mă refeream la mărimea L, nu la M.",
        "Am verificat din nou și urmărirea nu s-a schimbat.",
        "Puteți trimite eticheta de retur pe cealaltă adresă de e-mail?",
        "Da, cardul se termină în 4417.",
        "Perfect, îl duc mâine la oficiul poștal.",
        "Mai aveți nevoie de ceva de la mine?",
        "Nu sunt mulțumit de răspuns. Chiar nu se mai poate face nimic?",
        "Bine, sâmbătă la 10:30 e perfect.",
        "Banii au intrat în cont. Mulțumesc că ați rezolvat atât de repede!",
        "Îmi puteți confirma totalul, cu tot cu livrarea?",
        "Am șters memoria cache cum mi-ați spus, dar tot nu merge.",
        "Numărul de telefon este același ca în cont.",
        "Super, asta era tot ce aveam nevoie.",
        "Primesc un e-mail când pleacă coletul?",
        "De fapt, aș putea s-o schimb cu cea verde în loc să primesc banii înapoi?",
        "Nici azi n-a ajuns nimic. Ce urmează?",
        "Revin cu privire la mesajul anterior.",
        "Nu vreau să mai aștept o săptămână. Se poate trimite prin curier rapid?",
    ],
    agent_replies: &[
        "Mulțumim că ne-ați scris! Verific chiar acum.",
        "Ne pare rău pentru întârziere. Am vorbit cu firma de curierat: coletul este în depozitul local și va fi livrat în cel mult două zile lucrătoare.",
        "Am emis rambursarea integrală pe metoda de plată inițială. De obicei durează 3–5 zile lucrătoare.",
        "V-am programat sâmbătă la 10:30. Veți primi în curând un e-mail de confirmare.",
        "Îmi puteți trimite numărul comenzii ca să vă găsesc contul?",
        "V-am trimis pe e-mail o etichetă de retur preplătită. Trebuie doar s-o printați, s-o lipiți pe cutie și să predați coletul la orice oficiu poștal.",
        "Vă înțeleg pe deplin nemulțumirea și ne cerem scuze. Am trimis cazul echipei de livrări, cu prioritate.",
        "Vești bune: produsul este din nou în stoc și v-am rezervat unul.",
        "Văd plata dublă. Am anulat-o, iar banii vor reveni în cont în câteva zile.",
        "Ne puteți trimite o fotografie cu deteriorarea? Ne ajută să expediem mai repede produsul de înlocuire.",
        "Am actualizat adresa de livrare a comenzii. Noua adresă este confirmată.",
        "Garanția noastră acoperă defectele de fabricație timp de doi ani, așa că vă înlocuim căștile gratuit.",
        "Da, livrăm și în Republica Moldova! Durează de obicei 3–4 zile lucrătoare.",
        "Am aplicat reducerea manual, iar noul total apare pe factura actualizată.",
        "Abonamentul a fost anulat și nu veți mai fi taxat.",
        "Mulțumim pentru răbdare. Colegii de la dezvoltare au găsit problema, iar remedierea vine în următoarea actualizare a aplicației.",
        "Am reemis factura cu numele corect al firmei și v-am atașat-o.",
        "Mă bucur că totul a ajuns în regulă! Dacă mai aveți nevoie de ceva, suntem aici.",
        "V-am mutat programarea luni la ora 14:00. Vă convine?",
        "Din păcate, codul promoțional a expirat vineri, dar v-am acordat o reducere de 10% ca gest de bunăvoință.",
        "Am transmis solicitarea managerului meu, care vă va suna astăzi până la ora 17.",
        "Puteți plăti prin transfer bancar; detaliile contului se află pe factura proformă trimisă pe e-mail.",
    ],
    notes: &[
        "Clientul ne-a scris de trei ori despre această comandă. Vă rog, tratați cu grijă.",
        "Curierul a confirmat că pachetul a fost direcționat greșit. Noua estimare: vineri.",
        "Rambursarea a fost aprobată de contabilitate; așteptăm confirmarea procesatorului de plăți.",
        "Posibil duplicat al tichetului de săptămâna trecută, același număr de comandă.",
        "Client vechi, cumpără en-gros. Merită să-i oferim transport gratuit.",
        "Am verificat logurile: plata a eșuat din cauza expirării 3-D Secure, nu din cauza cardului.",
        "Înlocuirea a plecat prin curier rapid. Numărul AWB a fost adăugat la comandă.",
        "Se poate uita cineva care cunoaște sistemul de programări? Intervalul apare liber, dar nu se salvează.",
        "Nu mai acordați nicio reducere; clientul a primit deja una luna trecută.",
        "Așteptăm confirmarea depozitului dacă marfa deteriorată poate fi returnată furnizorului.",
        "Clientul preferă să fie sunat după-amiaza.",
        "Escaladat la nivelul 2. Nu închideți conversația până nu răspunde echipa tehnică.",
    ],
    phone_prefix: "+40",
    email_domains: &[
        "posta.example",
        "carpati-mail.example",
        "romail.example",
        "example.com",
    ],
};

// ---------------------------------------------------------------------------------------------
// Polish. Surnames are gender-neutral so any first name can pair with any last name.
// ---------------------------------------------------------------------------------------------

/// Polish demo text.
pub const POLISH: Language = Language {
    code: "pl",
    rtl: false,
    first_names: &[
        "Anna", "Piotr", "Katarzyna", "Tomasz", "Magdalena", "Paweł", "Agnieszka", "Michał",
        "Joanna", "Łukasz", "Małgorzata", "Krzysztof", "Zofia", "Jakub", "Aleksandra", "Marcin",
        "Ewa", "Wojciech", "Natalia", "Grzegorz", "Karolina", "Bartosz", "Dorota", "Kamil",
    ],
    last_names: &[
        "Nowak", "Wójcik", "Kowalczyk", "Woźniak", "Mazur", "Krawczyk", "Zając", "Król",
        "Wieczorek", "Kaczmarek", "Michalak", "Adamczyk", "Dudek", "Pawlak", "Sikora", "Baran",
        "Wróbel", "Walczak", "Szewczyk", "Stępień", "Kubiak", "Lis", "Wilk", "Gołąb",
    ],
    opening_messages: &[
        "Dzień dobry, złożyłem zamówienie nr 48213 w zeszły wtorek i nadal ma status „w realizacji”. Kiedy zostanie wysłane?",
        "Paczka miała dotrzeć wczoraj, ale status przesyłki nie zmienił się od czterech dni. Czy zaginęła?",
        "Chciałabym zwrócić niebieską kurtkę przeciwdeszczową, bo jest o rozmiar za mała. Jak rozpocząć zwrot?",
        "Cześć! Czy mogę umówić wizytę na sobotę rano? Pasuje mi każda godzina przed południem.",
        "Za to samo zamówienie pobrano ode mnie płatność dwa razy. Proszę o zwrot podwójnej kwoty.",
        "Czy blender X200 ma w zestawie zapasowe ostrze, czy trzeba je kupić osobno?",
        "Szczerze mówiąc, to już trzeci raz, kiedy dostawa się spóźnia. Kończy mi się cierpliwość.",
        "Chciałem tylko podziękować — wymieniony produkt dotarł dziś rano i działa bez zarzutu.",
        "Moja karta jest odrzucana przy płatności, choć wszędzie indziej działa. Wiecie może dlaczego?",
        "Czy biurko z regulacją wysokości jest dostępne w kolorze białym? Na stronie widnieje „ograniczona dostępność”.",
        "Muszę zmienić adres dostawy zamówienia. Niedawno się przeprowadziłam i zapomniałam go zaktualizować.",
        "Karton dotarł uszkodzony, a dwie szklanki w środku były stłuczone. Co mam zrobić?",
        "Czy mogę przełożyć wizytę z czwartku na przyszły poniedziałek?",
        "Nie dostałem maila z potwierdzeniem rezerwacji. Możecie sprawdzić, czy wszystko się zapisało?",
        "Czy wysyłacie zamówienia do Czech? Jeśli tak, ile trwa dostawa?",
        "Aplikacja wylogowuje mnie co kilka minut. Dwa razy ją przeinstalowałem i nic to nie dało.",
        "Obiecano mi wczoraj telefon zwrotny, ale nikt nie zadzwonił. Proszę o kontakt jeszcze dziś.",
        "Czy jest rabat przy zamówieniu 50 sztuk? Prowadzimy małą kawiarnię i chcemy używać waszych kubków.",
        "Na fakturze jest błędna nazwa firmy. Czy możecie wystawić korektę?",
        "Chcę anulować subskrypcję przed kolejnym obciążeniem, które przypada 14. dnia miesiąca.",
        "Dostałam cudze zamówienie! Nazwisko na etykiecie nie jest moje.",
        "Jaka jest gwarancja na słuchawki bezprzewodowe? Lewa słuchawka przestała działać po trzech miesiącach.",
        "Krótkie pytanie: czy mogę zapłacić przelewem zamiast kartą?",
        "Odesłałem buty dwa tygodnie temu i wciąż nie ma zwrotu pieniędzy. Według śledzenia odebraliście je trzeciego.",
        "Dzień dobry. Zamówienie ma status „doręczone”, ale pod drzwiami nic nie ma, a sąsiedzi też niczego nie widzieli.",
        "Czy da się dodać pakowanie na prezent do zamówienia, które już złożyłam?",
        "Kod WIOSNA15 nie działa — pokazuje, że wygasł, a w mailu było napisane, że jest ważny do niedzieli.",
        "Chciałbym porozmawiać z kierownikiem o tym, jak potraktowano moją reklamację w zeszłym tygodniu.",
        "W instrukcji montażu regału brakuje kroku 4. Możecie przesłać PDF?",
        "Czy macie wolne terminy w tym tygodniu na przymiarkę? Godzina jest mi obojętna.",
        "Gdzie jest moje zamówienie?",
    ],
    follow_ups: &[
        "Dziękuję za odpowiedź. Numer zamówienia to 48213.",
        "Załączam zdjęcie uszkodzonego kartonu.",
        "Czy coś już wiadomo? Minęły trzy dni.",
        "Ten termin mi pasuje, dziękuję!",
        "Przepraszam, chodziło mi o rozmiar L, a nie M.",
        "Sprawdziłem jeszcze raz i status przesyłki się nie zmienił.",
        "Czy możecie wysłać etykietę zwrotną na mój drugi adres e-mail?",
        "Tak, karta kończy się na 4417.",
        "Świetnie, jutro zaniosę paczkę na pocztę.",
        "Czy potrzebujecie ode mnie czegoś jeszcze?",
        "Ta odpowiedź mnie nie satysfakcjonuje. Naprawdę nic więcej nie da się zrobić?",
        "Dobrze, sobota o 10:30 jest idealna.",
        "Pieniądze wróciły na konto. Dziękuję za szybkie załatwienie sprawy!",
        "Możecie potwierdzić łączną kwotę razem z dostawą?",
        "Wyczyściłem pamięć podręczną, tak jak radziliście, ale to nie pomogło.",
        "Numer telefonu jest taki sam jak na koncie.",
        "Super, to wszystko, czego potrzebowałam.",
        "Czy dostanę maila, kiedy paczka zostanie wysłana?",
        "Właściwie, czy mogę wymienić ją na zieloną zamiast zwrotu pieniędzy?",
        "Dzisiaj też nic nie przyszło. Co dalej?",
        "Nawiązuję do mojej poprzedniej wiadomości.",
        "Nie chcę czekać kolejnego tygodnia. Czy można wysłać ekspresowo?",
    ],
    agent_replies: &[
        "Dziękujemy za wiadomość! Już sprawdzam, co się dzieje.",
        "Przepraszamy za opóźnienie. Skontaktowałem się z kurierem: paczka jest w lokalnym oddziale i zostanie doręczona w ciągu dwóch dni roboczych.",
        "Zleciłam pełny zwrot na pierwotną metodę płatności. Zwykle trwa to 3–5 dni roboczych.",
        "Wizyta jest zarezerwowana na sobotę na 10:30. Wkrótce przyjdzie e-mail z potwierdzeniem.",
        "Proszę podać numer zamówienia, a odnajdę konto.",
        "Wysłałem mailem opłaconą etykietę zwrotną. Wystarczy ją wydrukować, nakleić na paczkę i nadać w dowolnej placówce.",
        "W pełni rozumiem frustrację i bardzo przepraszamy. Przekazałem sprawę do działu wysyłek jako priorytetową.",
        "Dobra wiadomość: produkt jest znów dostępny i zarezerwowałam jedną sztukę.",
        "Widzę podwójne obciążenie. Anulowałem je, a środki wrócą na konto w ciągu kilku dni.",
        "Prosimy o zdjęcie uszkodzenia — dzięki temu szybciej wyślemy wymianę.",
        "Zaktualizowałam adres dostawy. Nowy adres jest potwierdzony.",
        "Nasza gwarancja obejmuje wady fabryczne przez dwa lata, więc wymienimy słuchawki bezpłatnie.",
        "Tak, wysyłamy do Czech! Dostawa trwa zwykle 3–4 dni robocze.",
        "Naliczyłem rabat ręcznie, nowa kwota jest widoczna na zaktualizowanej fakturze.",
        "Subskrypcja została anulowana i nie będzie już kolejnych obciążeń.",
        "Dziękujemy za cierpliwość. Programiści znaleźli błąd, a poprawka trafi do najbliższej aktualizacji aplikacji.",
        "Wystawiłam fakturę korygującą z poprawną nazwą firmy — jest w załączniku.",
        "Cieszę się, że wszystko dotarło w całości! W razie pytań jesteśmy do dyspozycji.",
        "Przeniosłem wizytę na poniedziałek na 14:00. Czy ta godzina pasuje?",
        "Niestety kod wygasł w piątek, ale w ramach przeprosin dodałam 10% rabatu do zamówienia.",
        "Przekazałem sprawę kierownikowi, który zadzwoni dziś przed 17:00.",
        "Oczywiście, można zapłacić przelewem. Dane do przelewu są na fakturze pro forma wysłanej mailem.",
    ],
    notes: &[
        "Klient pisał już trzy razy w sprawie tego zamówienia. Proszę o szczególną uwagę.",
        "Kurier potwierdził, że paczka trafiła do złego oddziału. Nowy termin: piątek.",
        "Zwrot zatwierdzony przez księgowość; czekamy na potwierdzenie od operatora płatności.",
        "Prawdopodobnie duplikat zgłoszenia z zeszłego tygodnia, ten sam numer zamówienia.",
        "Stały klient hurtowy — warto zaproponować darmową wysyłkę.",
        "Sprawdziłem logi: płatność nie przeszła przez przekroczenie czasu 3-D Secure, a nie przez kartę.",
        "Wymiana wysłana kurierem ekspresowym. Numer przesyłki dodany do zamówienia.",
        "Czy ktoś, kto zna system rezerwacji, może na to zerknąć? Termin wygląda na wolny, ale nie da się go zapisać.",
        "Nie dawajcie kolejnego rabatu; klient dostał już jeden w zeszłym miesiącu.",
        "Czekamy, aż magazyn potwierdzi, czy uszkodzony towar można odesłać do dostawcy.",
        "Klient woli kontakt telefoniczny po południu.",
        "Przekazane do drugiej linii wsparcia. Proszę nie zamykać, dopóki nie odezwie się zespół techniczny.",
    ],
    phone_prefix: "+48",
    email_domains: &[
        "poczta.example",
        "skrzynka.example",
        "wisla-mail.example",
        "example.com",
    ],
};

/// Every demo language, in seeding order.
pub const LANGUAGES: &[&Language] = &[&ENGLISH, &PERSIAN, &ARABIC, &ROMANIAN, &POLISH];

/// A canned response template for the demo workspace.
#[derive(Debug)]
pub struct CannedTemplate {
    /// Lowercase ASCII, no spaces, e.g. "greet", "refund-policy".
    pub short_code: &'static str,
    /// Human-readable name shown in the canned-response picker.
    pub title: &'static str,
    /// Body using variables from this set only: {{contact.name}}, {{contact.first_name}},
    /// {{agent.name}}, {{conversation.id}}, {{inbox.name}}.
    pub body: &'static str,
}

/// Team-wide canned responses: mostly English, plus a greeting and a closing in every other
/// demo language (short codes suffixed with the language code).
pub const CANNED_RESPONSES: &[CannedTemplate] = &[
    CannedTemplate {
        short_code: "greet",
        title: "Greeting",
        body: "Hi {{contact.first_name}},\n\nThanks for getting in touch with {{inbox.name}}! I'm {{agent.name}} and I'll be looking after your request today.",
    },
    CannedTemplate {
        short_code: "refund-policy",
        title: "Refund policy",
        body: "Hi {{contact.first_name}}, you can return any unused item within 30 days of delivery for a full refund. As soon as the parcel reaches our warehouse we refund your original payment method, which usually takes 3–5 business days to show up.",
    },
    CannedTemplate {
        short_code: "shipping-delay",
        title: "Shipping delay apology",
        body: "Hi {{contact.first_name}}, I'm really sorry your order is taking longer than expected. Our courier is running behind in your area and I've asked them to prioritise your parcel. I'll keep an eye on it and update you here as soon as it moves.",
    },
    CannedTemplate {
        short_code: "order-number",
        title: "Ask for order number",
        body: "Could you share your order number, {{contact.first_name}}? You'll find it in your confirmation email, starting with a # sign. With that I can look everything up straight away.",
    },
    CannedTemplate {
        short_code: "return-label",
        title: "Return label sent",
        body: "Hi {{contact.first_name}}, I've emailed you a prepaid return label. Print it, stick it on the box (the original packaging isn't needed) and drop it off at any post office. We'll confirm by email once it arrives.",
    },
    CannedTemplate {
        short_code: "payment-declined",
        title: "Card declined: things to try",
        body: "Sorry about the trouble at checkout, {{contact.first_name}}. Declines are usually caused by your bank's security check. Please make sure the billing address matches your card statement, approve the payment in your banking app if asked, or try a different card. If it still fails, reply here and we'll take a closer look.",
    },
    CannedTemplate {
        short_code: "appointment-confirmed",
        title: "Appointment confirmed",
        body: "Hi {{contact.name}}, your appointment is confirmed. If you need to change or cancel it, just reply to this conversation (reference #{{conversation.id}}) at least 24 hours beforehand.",
    },
    CannedTemplate {
        short_code: "escalated",
        title: "Escalated to a specialist",
        body: "Thanks for your patience, {{contact.first_name}}. I've passed conversation #{{conversation.id}} to one of our specialists, who will get back to you directly within one working day.",
    },
    CannedTemplate {
        short_code: "damaged-item",
        title: "Damaged item",
        body: "I'm so sorry your order arrived damaged, {{contact.first_name}}. Could you send a photo of the item and the box? Once we have it we'll ship a replacement free of charge, and there's no need to send the broken one back.",
    },
    CannedTemplate {
        short_code: "check-in",
        title: "Checking in",
        body: "Hi {{contact.first_name}}, just checking in. Did the solution work for you, or is there anything else I can help with?",
    },
    CannedTemplate {
        short_code: "warranty",
        title: "Warranty information",
        body: "All our products come with a two-year warranty covering manufacturing faults. To make a claim, reply with your order number and a short description of the problem, and we'll arrange a repair or a replacement.",
    },
    CannedTemplate {
        short_code: "out-of-hours",
        title: "Out of hours",
        body: "Thanks for your message to {{inbox.name}}. Our team is offline right now, but we're back Monday to Friday from 9:00 to 18:00 and will reply as soon as we're in.",
    },
    CannedTemplate {
        short_code: "closing",
        title: "Closing",
        body: "Glad we could help, {{contact.first_name}}! I'm marking this conversation as resolved, but if anything else comes up just reply here and we'll pick it up again.\n\nBest wishes,\n{{agent.name}}\n{{inbox.name}}",
    },
    CannedTemplate {
        short_code: "greet-fa",
        title: "خوشامدگویی",
        body: "سلام {{contact.first_name}} عزیز،\nممنون که با {{inbox.name}} تماس گرفتید. من {{agent.name}} هستم و امروز پیگیر درخواست شما خواهم بود.",
    },
    CannedTemplate {
        short_code: "closing-fa",
        title: "پایان گفتگو",
        body: "{{contact.first_name}} عزیز، خوشحالیم که مشکل حل شد. اگر سؤال دیگری داشتید، کافی است به همین پیام پاسخ دهید. شماره‌ی پیگیری: {{conversation.id}}\n\nبا احترام،\n{{agent.name}}",
    },
    CannedTemplate {
        short_code: "greet-ar",
        title: "ترحيب",
        body: "مرحباً {{contact.first_name}}،\nشكراً لتواصلك مع {{inbox.name}}. معك {{agent.name}} وسأتابع طلبك اليوم.",
    },
    CannedTemplate {
        short_code: "closing-ar",
        title: "إنهاء المحادثة",
        body: "يسعدنا أننا تمكنا من مساعدتك يا {{contact.first_name}}. إذا كان لديك أي استفسار آخر، يكفي أن ترد على هذه الرسالة. رقم المحادثة: {{conversation.id}}\n\nمع أطيب التحيات،\n{{agent.name}}",
    },
    CannedTemplate {
        short_code: "greet-ro",
        title: "Salut",
        body: "Bună ziua, {{contact.first_name}}!\nVă mulțumim că ați contactat {{inbox.name}}. Sunt {{agent.name}} și mă ocup astăzi de solicitarea dumneavoastră.",
    },
    CannedTemplate {
        short_code: "closing-ro",
        title: "Încheiere",
        body: "Ne bucurăm că v-am putut ajuta, {{contact.first_name}}. Dacă mai aveți întrebări, răspundeți pur și simplu la acest mesaj (conversația #{{conversation.id}}).\n\nO zi frumoasă,\n{{agent.name}}",
    },
    CannedTemplate {
        short_code: "greet-pl",
        title: "Powitanie",
        body: "Dzień dobry, {{contact.first_name}}!\nDziękujemy za wiadomość do zespołu {{inbox.name}}. Nazywam się {{agent.name}} i chętnie pomogę.",
    },
    CannedTemplate {
        short_code: "closing-pl",
        title: "Zakończenie",
        body: "Cieszymy się, że mogliśmy pomóc, {{contact.first_name}}. Jeśli pojawią się kolejne pytania, wystarczy odpowiedzieć na tę wiadomość (rozmowa #{{conversation.id}}).\n\nPozdrawiam serdecznie,\n{{agent.name}}",
    },
];

/// Label names for the demo workspace with a hex colour each.
pub const LABELS: &[(&str, &str)] = &[
    ("vip", "#7c3aed"),
    ("refund", "#f59e0b"),
    ("bug", "#dc2626"),
    ("billing", "#2563eb"),
    ("shipping", "#0891b2"),
    ("lead", "#16a34a"),
    ("complaint", "#be123c"),
    ("follow-up", "#ea580c"),
    ("feedback", "#0d9488"),
    ("appointment", "#4f46e5"),
];

/// Mobile-looking national number layout for a language: fixed leading digits and the sizes of
/// the space-separated digit groups (which always add up to the leading digits plus eight).
fn phone_layout(code: &str) -> (&'static str, &'static [usize]) {
    match code {
        // +44 77xx xxxxxx
        "en" => ("77", &[4, 6]),
        // +98 91x xxx xxxx
        "fa" => ("91", &[3, 3, 4]),
        // +971 5x xxx xxxx
        "ar" => ("5", &[2, 3, 4]),
        // +40 7xx xxx xxx
        "ro" => ("7", &[3, 3, 3]),
        // +48 5xx xxx xxx
        "pl" => ("5", &[3, 3, 3]),
        _ => ("6", &[3, 3, 3]),
    }
}

/// Deterministic phone number for the n-th contact of a language: the prefix followed by 9–10
/// digits derived from `n`, e.g. "+44 7700 900123".
///
/// The last eight digits are an affine permutation of `n` modulo 10^8, so numbers are distinct for
/// every `n` below one hundred million.
pub fn phone_number(language: &Language, n: u64) -> String {
    const MODULUS: u64 = 100_000_000;
    // 7919 is prime and coprime with 10^8, so this map is a bijection on 0..10^8.
    let scrambled = ((n % MODULUS) * 7_919 + 1_234_567) % MODULUS;
    let (lead, groups) = phone_layout(language.code);
    let digits = format!("{lead}{scrambled:08}");

    let mut out = String::with_capacity(language.phone_prefix.len() + digits.len() + 4);
    out.push_str(language.phone_prefix);
    let mut start = 0;
    for &size in groups {
        let end = (start + size).min(digits.len());
        if start >= end {
            break;
        }
        out.push(' ');
        out.push_str(&digits[start..end]);
        start = end;
    }
    if start < digits.len() {
        out.push_str(&digits[start..]);
    }
    out
}

/// Folds a Latin letter (including Romanian and Polish diacritics) to lowercase ASCII.
fn fold_latin(c: char) -> Option<char> {
    if c.is_ascii_alphanumeric() {
        return Some(c.to_ascii_lowercase());
    }
    let folded = match c {
        'ă' | 'â' | 'ą' | 'á' | 'à' | 'ä' | 'Ă' | 'Â' | 'Ą' | 'Á' | 'À' | 'Ä' => 'a',
        'ć' | 'č' | 'ç' | 'Ć' | 'Č' | 'Ç' => 'c',
        'ę' | 'é' | 'è' | 'ë' | 'ê' | 'Ę' | 'É' | 'È' | 'Ë' | 'Ê' => 'e',
        'î' | 'í' | 'ï' | 'Î' | 'Í' | 'Ï' => 'i',
        'ł' | 'Ł' => 'l',
        'ń' | 'ñ' | 'Ń' | 'Ñ' => 'n',
        'ó' | 'ö' | 'ô' | 'Ó' | 'Ö' | 'Ô' => 'o',
        'ș' | 'ş' | 'ś' | 'š' | 'Ș' | 'Ş' | 'Ś' | 'Š' => 's',
        'ț' | 'ţ' | 'Ț' | 'Ţ' => 't',
        'ú' | 'ü' | 'û' | 'Ú' | 'Ü' | 'Û' => 'u',
        'ź' | 'ż' | 'ž' | 'Ź' | 'Ż' | 'Ž' => 'z',
        _ => return None,
    };
    Some(folded)
}

/// Lowercase ASCII email local-part fragment for a name, or `None` if the name is not written in
/// (possibly accented) Latin letters.
fn latin_local_part(name: &str) -> Option<String> {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        match c {
            ' ' | '\'' | '’' | '.' => {}
            '-' => {
                if !out.is_empty() && !out.ends_with('-') {
                    out.push('-');
                }
            }
            _ => out.push(fold_latin(c)?),
        }
    }
    let trimmed = out.trim_end_matches('-');
    if trimmed.is_empty() {
        None
    } else {
        Some(trimmed.to_string())
    }
}

/// Deterministic email address "first.last{n}@domain" lowercased (Latin diacritics folded to
/// ASCII); for names in non-Latin scripts the fallback is "customer{n}@domain".
pub fn email_address(language: &Language, first: &str, last: &str, n: u64) -> String {
    let domain = if language.email_domains.is_empty() {
        "example.com"
    } else {
        let index = (n % language.email_domains.len() as u64) as usize;
        language.email_domains.get(index).copied().unwrap_or("example.com")
    };
    match (latin_local_part(first), latin_local_part(last)) {
        (Some(first), Some(last)) => format!("{first}.{last}{n}@{domain}"),
        _ => format!("customer{n}@{domain}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    const ARABIC_YEH: char = '\u{064A}';
    const ARABIC_KAF: char = '\u{0643}';
    const ARABIC_ALEF_MAKSURA: char = '\u{0649}';
    const PERSIAN_YEH: char = '\u{06CC}';
    const PERSIAN_KEHEH: char = '\u{06A9}';

    fn all_strings(language: &Language) -> Vec<&'static str> {
        let mut out = Vec::new();
        for list in [
            language.first_names,
            language.last_names,
            language.opening_messages,
            language.follow_ups,
            language.agent_replies,
            language.notes,
        ] {
            out.extend_from_slice(list);
        }
        out
    }

    fn canned_for(code: &str) -> Vec<&'static CannedTemplate> {
        let suffix = format!("-{code}");
        CANNED_RESPONSES.iter().filter(|t| t.short_code.ends_with(&suffix)).collect()
    }

    fn placeholders(body: &str) -> Vec<&str> {
        let mut out = Vec::new();
        let mut rest = body;
        while let Some(start) = rest.find("{{") {
            let after = &rest[start + 2..];
            let end = after.find("}}").expect("unterminated placeholder");
            out.push(&after[..end]);
            rest = &after[end + 2..];
        }
        assert!(!rest.contains("}}"), "stray closing braces in {body:?}");
        out
    }

    #[test]
    fn languages_meet_minimum_counts() {
        assert_eq!(LANGUAGES.len(), 5);
        for language in LANGUAGES {
            let code = language.code;
            assert!(language.first_names.len() >= 20, "{code}: first names");
            assert!(language.last_names.len() >= 20, "{code}: last names");
            assert!(language.opening_messages.len() >= 25, "{code}: opening messages");
            assert!(language.follow_ups.len() >= 20, "{code}: follow-ups");
            assert!(language.agent_replies.len() >= 20, "{code}: agent replies");
            assert!(language.notes.len() >= 10, "{code}: notes");
            assert!(language.email_domains.len() >= 4, "{code}: email domains");
            assert!(language.phone_prefix.starts_with('+'), "{code}: phone prefix");
            assert!(
                language.phone_prefix[1..].chars().all(|c| c.is_ascii_digit()),
                "{code}: phone prefix digits"
            );
        }
    }

    #[test]
    fn language_codes_are_the_expected_ones() {
        let codes: Vec<&str> = LANGUAGES.iter().map(|l| l.code).collect();
        assert_eq!(codes, ["en", "fa", "ar", "ro", "pl"]);
    }

    #[test]
    fn strings_are_non_empty_trimmed_and_unique_per_list() {
        for language in LANGUAGES {
            for list in [
                language.first_names,
                language.last_names,
                language.opening_messages,
                language.follow_ups,
                language.agent_replies,
                language.notes,
                language.email_domains,
            ] {
                let mut seen = HashSet::new();
                for s in list {
                    assert!(!s.is_empty(), "{}: empty string", language.code);
                    assert_eq!(s.trim(), *s, "{}: untrimmed {s:?}", language.code);
                    assert!(seen.insert(*s), "{}: duplicate {s:?}", language.code);
                }
            }
        }
    }

    #[test]
    fn notes_contain_no_mentions() {
        for language in LANGUAGES {
            for note in language.notes {
                assert!(!note.contains('@'), "{}: mention in note {note:?}", language.code);
            }
        }
    }

    #[test]
    fn email_domains_are_lowercase_ascii() {
        for language in LANGUAGES {
            for domain in language.email_domains {
                assert!(domain.contains('.'), "{domain}");
                assert!(
                    domain
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-'),
                    "{domain}"
                );
            }
        }
    }

    #[test]
    fn rtl_flags_are_true_exactly_for_persian_and_arabic() {
        for language in LANGUAGES {
            let expected = matches!(language.code, "fa" | "ar");
            assert_eq!(language.rtl, expected, "{}", language.code);
        }
    }

    #[test]
    fn persian_uses_persian_letters_only() {
        let mut strings = all_strings(&PERSIAN);
        strings.extend(canned_for("fa").iter().map(|t| t.title));
        strings.extend(canned_for("fa").iter().map(|t| t.body));
        for s in strings {
            for bad in [ARABIC_YEH, ARABIC_KAF, ARABIC_ALEF_MAKSURA] {
                assert!(!s.contains(bad), "Arabic letter {bad:?} in Persian text {s:?}");
            }
            assert!(
                !s.chars().any(|c| ('\u{0660}'..='\u{0669}').contains(&c)),
                "Arabic-Indic digit in Persian text {s:?}"
            );
        }
    }

    #[test]
    fn arabic_uses_arabic_letters_only() {
        let mut strings = all_strings(&ARABIC);
        strings.extend(canned_for("ar").iter().map(|t| t.title));
        strings.extend(canned_for("ar").iter().map(|t| t.body));
        for s in strings {
            for bad in [PERSIAN_YEH, PERSIAN_KEHEH] {
                assert!(!s.contains(bad), "Persian letter {bad:?} in Arabic text {s:?}");
            }
            assert!(
                !s.chars().any(|c| ('\u{06F0}'..='\u{06F9}').contains(&c)),
                "Persian digit in Arabic text {s:?}"
            );
        }
    }

    #[test]
    fn romanian_uses_comma_below_letters() {
        let mut strings = all_strings(&ROMANIAN);
        strings.extend(canned_for("ro").iter().map(|t| t.body));
        for s in strings {
            for bad in ['ş', 'Ş', 'ţ', 'Ţ'] {
                assert!(!s.contains(bad), "cedilla {bad:?} in Romanian text {s:?}");
            }
        }
    }

    #[test]
    fn canned_bodies_only_use_allowed_variables() {
        const ALLOWED: [&str; 5] =
            ["contact.name", "contact.first_name", "agent.name", "conversation.id", "inbox.name"];
        let mut with_variables = 0;
        for template in CANNED_RESPONSES {
            let found = placeholders(template.body);
            for name in &found {
                assert!(ALLOWED.contains(name), "{}: unknown variable {name:?}", template.short_code);
            }
            if !found.is_empty() {
                with_variables += 1;
            }
        }
        assert!(with_variables * 2 > CANNED_RESPONSES.len(), "most templates use a variable");
    }

    #[test]
    fn canned_short_codes_are_valid_and_unique() {
        assert!(CANNED_RESPONSES.len() >= 15);
        let mut seen = HashSet::new();
        for template in CANNED_RESPONSES {
            let code = template.short_code;
            assert!(!code.is_empty());
            assert!(
                code.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "bad short code {code:?}"
            );
            assert!(seen.insert(code), "duplicate short code {code:?}");
            assert!(!template.title.trim().is_empty(), "{code}: empty title");
            assert!(!template.body.trim().is_empty(), "{code}: empty body");
        }
    }

    #[test]
    fn canned_responses_cover_every_language() {
        let mut localized = 0;
        for code in ["fa", "ar", "ro", "pl"] {
            let count = canned_for(code).len();
            assert!(count >= 2, "{code}: only {count} canned responses");
            localized += count;
        }
        let english = CANNED_RESPONSES.len() - localized;
        assert!(english > localized, "canned responses should be mostly English");
    }

    #[test]
    fn labels_have_hex_colours() {
        assert!(LABELS.len() >= 8);
        let mut seen = HashSet::new();
        for (name, colour) in LABELS {
            assert!(seen.insert(*name), "duplicate label {name}");
            assert!(!name.is_empty() && !name.contains(' '), "bad label {name:?}");
            assert_eq!(colour.len(), 7, "{name}: {colour}");
            assert!(colour.starts_with('#'), "{name}: {colour}");
            assert!(colour[1..].chars().all(|c| c.is_ascii_hexdigit()), "{name}: {colour}");
            assert_eq!(colour.to_ascii_lowercase(), *colour, "{name}: {colour}");
        }
    }

    #[test]
    fn phone_numbers_are_deterministic_and_distinct() {
        for language in LANGUAGES {
            let mut seen = HashSet::new();
            for n in 0..2_000u64 {
                let number = phone_number(language, n);
                assert_eq!(number, phone_number(language, n), "not deterministic");
                assert!(number.starts_with(language.phone_prefix), "{number}");
                let rest = &number[language.phone_prefix.len()..];
                assert!(rest.starts_with(' '), "{number}");
                assert!(rest.chars().all(|c| c == ' ' || c.is_ascii_digit()), "{number}");
                let digits = rest.chars().filter(char::is_ascii_digit).count();
                assert!((9..=10).contains(&digits), "{number}: {digits} digits");
                assert!(seen.insert(number), "duplicate phone number for n = {n}");
            }
        }
        assert_ne!(phone_number(&ENGLISH, 1), phone_number(&ENGLISH, 2));
        assert_ne!(phone_number(&POLISH, u64::MAX), phone_number(&POLISH, 0));
    }

    #[test]
    fn english_phone_number_looks_british() {
        let number = phone_number(&ENGLISH, 42);
        assert_eq!(number.len(), "+44 7700 900123".len(), "{number}");
        assert!(number.starts_with("+44 77"), "{number}");
    }

    #[test]
    fn email_addresses_for_latin_names() {
        let domains = ENGLISH.email_domains;
        assert_eq!(
            email_address(&ENGLISH, "Olivia", "Smith", 3),
            format!("olivia.smith3@{}", domains[3 % domains.len()])
        );
        let ro = ROMANIAN.email_domains;
        assert_eq!(
            email_address(&ROMANIAN, "Ștefan", "Țăranu", 5),
            format!("stefan.taranu5@{}", ro[5 % ro.len()])
        );
        let pl = POLISH.email_domains;
        assert_eq!(
            email_address(&POLISH, "Łukasz", "Gołąb", 12),
            format!("lukasz.golab12@{}", pl[12 % pl.len()])
        );
        assert_eq!(
            email_address(&ENGLISH, "Mary Jane", "O'Brien", 0),
            format!("maryjane.obrien0@{}", domains[0])
        );
    }

    #[test]
    fn email_addresses_fall_back_for_non_latin_names() {
        let fa = PERSIAN.email_domains;
        assert_eq!(email_address(&PERSIAN, "علی", "احمدی", 7), format!("customer7@{}", fa[7 % fa.len()]));
        let ar = ARABIC.email_domains;
        assert_eq!(email_address(&ARABIC, "ليلى", "الحربي", 9), format!("customer9@{}", ar[9 % ar.len()]));
    }

    #[test]
    fn every_generated_email_is_ascii_and_deterministic() {
        for language in LANGUAGES {
            for (n, first) in language.first_names.iter().enumerate() {
                let n = n as u64;
                let last = language.last_names[n as usize % language.last_names.len()];
                let email = email_address(language, first, last, n);
                assert_eq!(email, email_address(language, first, last, n));
                assert!(email.is_ascii(), "{email}");
                assert_eq!(email.to_lowercase(), email, "{email}");
                assert_eq!(email.matches('@').count(), 1, "{email}");
                let domain = email.split('@').nth(1).unwrap_or("");
                assert!(language.email_domains.contains(&domain), "{email}");
                assert!(email.split('@').next().unwrap_or("").ends_with(&n.to_string()), "{email}");
            }
        }
    }
}
